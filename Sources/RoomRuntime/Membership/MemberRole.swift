/// A member's role in a `members` or `direct` room.
public enum MemberRole: String, Sendable, Codable, CaseIterable, Comparable {
    /// Reads, posts, and manages the members.
    case owner
    /// Reads and posts.
    case member
    /// Reads only (announcement channels): whatever a reader sends is refused with `read_only`.
    case reader

    /// Whether the role may send messages and write requests to the room.
    public var canPost: Bool { self != .reader }

    /// Whether the role may add, change and remove members.
    public var canManageMembers: Bool { self == .owner }

    public static func < (lhs: MemberRole, rhs: MemberRole) -> Bool {
        allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)!
    }
}
