/// Output a turn produced, held by the output gate until the turn's commit.
enum Delivery: Sendable {
    /// A frame for one connection.
    case one(RoomConnection, OutboundFrame)
    /// A frame for every connection in `recipients` but `except`.
    case many([RoomConnection], except: RoomConnection?, OutboundFrame)
    /// Close a connection.
    case close(RoomConnection, CloseCode, String)

    func perform() {
        switch self {
        case .one(let connection, let frame):
            connection.transport.send(frame)
        case .many(let recipients, let except, let frame):
            for connection in recipients where connection !== except {
                connection.transport.send(frame)
            }
        case .close(let connection, let code, let reason):
            connection.transport.close(code: code, reason: reason)
        }
    }
}
