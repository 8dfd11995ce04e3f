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
    public func receive(_ message: ClientMessage) {
        runtime.deliver(.message(connection, message), to: slot)
    }

    /// The client's socket closed (or the server closed it).
    public func disconnect() {
        runtime.deliver(.disconnect(connection), to: slot)
    }
}
