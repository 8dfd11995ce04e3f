/// A change to the members of a `members` or `direct` room, as ``Room/onMembersChanged(_:context:)``
/// receives it.
public enum MemberChange: Sendable, Equatable {
    /// A member was added (the room's creation adds its first members).
    case added(Member)
    /// A member was given another role.
    case changed(Member)
    /// A member was removed, or left.
    case removed(Member)

    /// The member concerned, as they are after the change (or were, when removed).
    public var member: Member {
        switch self {
        case .added(let member), .changed(let member), .removed(let member): member
        }
    }
}
