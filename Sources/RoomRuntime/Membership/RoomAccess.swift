/// Who may enter the rooms of a kind: the kind option `"access"`.
public enum RoomAccess: String, Sendable, Codable, CaseIterable {
    /// Anyone the server authenticated (and whose token's `rooms` claim covers the room) may join
    /// and post. Rooms are created by their first accepted connection or stored write.
    case open
    /// Only the room's members, each with a ``MemberRole``, stored in the room's own file. A room
    /// is created explicitly (`POST /rooms/{kind}/{id}`), its creator its first owner; owners
    /// manage the members.
    case members
    /// One-to-one rooms: two members, fixed at creation (`POST /direct/{kind}`), whose id is
    /// derived from the pair of users and a topic (``DirectRoom``).
    case direct
}
