public import RoomRuntime

/// Who is in the room, per user: the connections each user has open, kept as connections open
/// and close (memory only; built from the room's connections, which outlive hibernation).
/// Adding or removing a connection twice changes nothing.
struct OnlineUsers {
    private var connections: [String: Set<RoomConnection.ID>] = [:]

    init(_ open: [RoomConnection]) {
        for connection in open { connections[connection.user, default: []].insert(connection.id) }
    }

    /// The users online.
    var count: Int { connections.count }

    /// `connection` opened: its user's open connections now.
    mutating func opened(_ connection: RoomConnection) -> Int {
        connections[connection.user, default: []].insert(connection.id)
        return connections[connection.user]!.count
    }

    /// `connection` closed: its user's open connections left.
    mutating func closed(_ connection: RoomConnection) -> Int {
        guard var mine = connections[connection.user] else { return 0 }
        mine.remove(connection.id)
        connections[connection.user] = mine.isEmpty ? nil : mine
        return mine.count
    }

    /// The first `limit` users of `open` (in the order they joined), with their connections.
    func present(in open: [RoomConnection], limit: Int) -> [PresentUser] {
        var listed: Set<String> = []
        var users: [PresentUser] = []
        for connection in open where users.count < limit && !listed.contains(connection.user) {
            listed.insert(connection.user)
            users.append(PresentUser(user: connection.user, connections: connections[connection.user]?.count ?? 1))
        }
        return users
    }
}
