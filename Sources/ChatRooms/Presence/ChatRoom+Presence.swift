public import RoomRuntime

/// Presence per user: a user's first connection is a `join` and their last close a `leave`
/// (three tabs, one join); above the kind's `presenceLimit` users online the room sends a
/// `count` at most once a second instead, and a `sync` when it goes back below.
extension ChatRoom {
    static let presenceTimer = "chat.presence"
    /// The shortest time between two `count` frames, in milliseconds.
    static let presenceCountInterval: Int64 = 1_000

    /// The users online, built from the room's connections on first use.
    func onlineUsers(context: isolated RoomContext) -> OnlineUsers {
        if let online { return online }
        let built = OnlineUsers(context.connections)
        online = built
        return built
    }

    /// `connection` opened: it is already among the room's connections.
    func presenceOpened(_ connection: RoomConnection, context: isolated RoomContext) throws {
        var users = onlineUsers(context: context)
        let mine = users.opened(connection)
        online = users
        guard mine == 1 else { return }
        try announce(.join, user: connection.user, context: context)
    }

    /// `connection` closed: it is no longer among the room's connections.
    func presenceClosed(_ connection: RoomConnection, context: isolated RoomContext) throws {
        var users = onlineUsers(context: context)
        let left = users.closed(connection)
        online = users
        guard left == 0 else { return }
        try announce(.leave, user: connection.user, context: context)
    }

    /// A join or a leave, or a count above the limit.
    private func announce(_ event: PresenceFrame.Event, user: String, context: isolated RoomContext) throws {
        let users = onlineUsers(context: context).count
        if users > options.presenceLimit {
            presenceCounting = true
            try sendCount(context: context)
            return
        }
        if presenceCounting {
            // Back under the limit: one list, then joins and leaves again.
            presenceCounting = false
            context.cancelTimer(Self.presenceTimer)
            context.broadcast(
                try .json(
                    PresenceFrame(
                        event: .sync, users: users,
                        present: onlineUsers(context: context).present(in: context.connections, limit: options.presenceLimit))))
            return
        }
        context.broadcast(
            try .json(PresenceFrame(event: event, user: user, connections: context.connections.count, users: users)))
    }

    /// A `count` now, or at the end of the interval if one went out within it.
    private func sendCount(context: isolated RoomContext) throws {
        let now = context.now()
        let due = presenceCountSentAt.map { $0 + Self.presenceCountInterval } ?? now
        if due <= now {
            presenceCountSentAt = now
            context.broadcast(try .json(PresenceFrame(event: .count, users: onlineUsers(context: context).count)))
        } else if !context.hasTimer(Self.presenceTimer) {
            context.setTimer(Self.presenceTimer, after: .milliseconds(due - now))
        }
    }

    /// The count that waited for its interval.
    func presenceTimerFired(context: isolated RoomContext) throws {
        guard presenceCounting else { return }
        try sendCount(context: context)
    }

    /// The welcome's `present` (up to the limit) and `online`, `connection` counted.
    func presenceWelcome(for connection: RoomConnection, context: isolated RoomContext) -> [String: JSONValue] {
        var users = onlineUsers(context: context)
        _ = users.opened(connection)
        online = users
        let present = users.present(in: context.connections, limit: options.presenceLimit)
        return [
            "present": .array(
                present.map { .object(["user": .string($0.user), "connections": .number(Double($0.connections))]) }),
            "online": .number(Double(users.count)),
        ]
    }
}
