/// One member of a `members` or `direct` room: `{"user", "role", "addedAt"}`.
public struct Member: Sendable, Codable, Equatable {
    /// The member's user name (a token's `sub`).
    public var user: String
    /// What the member may do.
    public var role: MemberRole
    /// When the member was added, in milliseconds since 1970.
    public var addedAt: Int64

    public init(user: String, role: MemberRole, addedAt: Int64) {
        self.user = user
        self.role = role
        self.addedAt = addedAt
    }
}
