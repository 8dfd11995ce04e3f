/// The server's handle on one connection it opened with ``RoomRuntime/connect(to:user:parameters:transport:)``.
///
/// The server feeds it what arrives on the socket, in order, and tells it when the socket closed.
/// Both calls return at once: they queue the event in the room's mailbox.
public struct ConnectionHandle: Sendable {
    /// The connection as the room sees it.
    public let connection: RoomConnection
    let slot: RoomSlot
    let runtime: RoomRuntime

    /// A message arrived from the client.
    ///
    /// A heartbeat (`{"type": "ping"}`) is answered here with `{"type": "pong"}`, without
    /// reaching (or waking) the room.
    public func receive(_ message: ClientMessage) {
        if case .text(let text) = message, let pong = Heartbeat.pong(answering: text) {
            connection.notePing(at: WallClock.millisecondsSince1970())
            connection.transport.send(pong)
            return
        }
        runtime.deliver(.message(connection, message), to: slot)
    }

    /// The client's socket closed (or the server closed it).
    public func disconnect() {
        runtime.deliver(.disconnect(connection), to: slot)
    }
}
