import GRDB

/// The members of a `members` or `direct` room: the table `_rooms_members` of the room's file,
/// read once per activation and kept in memory, written through.
///
/// A turn that fails after changing members is rolled back in storage but not here: the runtime
/// then restarts the room from its file (as for any failed commit), which reloads the list.
struct MemberList {
    private(set) var byUser: [String: Member]

    /// Reads the members from `storage`.
    static func load(from storage: RoomStorage) throws -> MemberList {
        let rows = try storage.fetchAll("SELECT user, role, added_at FROM _rooms_members")
        var byUser: [String: Member] = [:]
        for row in rows {
            let user: String = row["user"]
            // A role this version does not know (written by a newer one) reads as the least.
            let role = MemberRole(rawValue: row["role"]) ?? .reader
            byUser[user] = Member(user: user, role: role, addedAt: row["added_at"])
        }
        return MemberList(byUser: byUser)
    }

    /// The role of `user`, or nil when they are not a member.
    func role(of user: String) -> MemberRole? { byUser[user]?.role }

    /// The members, oldest first (ties by name).
    var sorted: [Member] {
        byUser.values.sorted { ($0.addedAt, $0.user) < ($1.addedAt, $1.user) }
    }

    /// How many owners the room has.
    var ownerCount: Int { byUser.values.count { $0.role == .owner } }

    /// Adds `member` or changes their role, as part of the turn.
    mutating func put(_ member: Member, in storage: RoomStorage) throws {
        try storage.execute(
            "INSERT INTO _rooms_members (user, role, added_at) VALUES (?, ?, ?) "
                + "ON CONFLICT (user) DO UPDATE SET role = excluded.role",
            arguments: [member.user, member.role.rawValue, member.addedAt])
        byUser[member.user] = byUser[member.user].map { Member(user: $0.user, role: member.role, addedAt: $0.addedAt) }
            ?? member
    }

    /// Removes `user`, as part of the turn.
    mutating func remove(_ user: String, in storage: RoomStorage) throws {
        try storage.execute("DELETE FROM _rooms_members WHERE user = ?", arguments: [user])
        byUser.removeValue(forKey: user)
    }
}
