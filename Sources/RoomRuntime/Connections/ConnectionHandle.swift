/// The server's handle on one connection it opened with
/// ``RoomRuntime/connect(to:user:parameters:transport:)``.
///
/// The server feeds it what arrives on the socket, in order, and tells it when the socket closed.
@_spi(Node)
public struct ConnectionHandle: Sendable {
    /// The connection as the room sees it.
    public let connection: RoomConnection
    let slot: RoomSlot
    let runtime: RoomRuntime

    /// A message arrived from the client. It is queued in the room's mailbox; the call returns
    /// when the connection may send more: at once, unless the connection has
    /// `maxFramesInFlight` frames unanswered or the room's mailbox is full, in which case it
    /// returns once the room has caught up. A server that reads the next message only after this
    /// returns stops reading a socket that writes faster than its room commits, and TCP slows the
    /// client down: nothing is buffered without bound, and nothing is dropped.
    ///
    /// A heartbeat (`{"type": "ping"}`) is answered here with `{"type": "pong"}`, without
    /// reaching (or waking) the room.
    public func receive(_ message: ClientMessage) async {
        if case .text(let text) = message, let pong = Heartbeat.pong(answering: text) {
            connection.notePing(at: WallClock.millisecondsSince1970())
            connection.transport.send(pong)
            return
        }
        connection.startFrame()
        let routed = runtime.deliver(.message(connection, message), to: slot)
        await connection.waitForFewerInFlight(than: runtime.configuration.maxFramesInFlight)
        if routed.mailboxFull { await routed.slot.waitForSpace() }
    }

    /// The client refreshed its token: `identity` (for the same user) replaces the connection's.
    public func refresh(_ identity: Identity) {
        precondition(identity.user == connection.user, "a refreshed identity is for the same user")
        connection.setIdentity(identity)
    }

    /// The client's socket closed (or the server closed it). Frames of this connection still
    /// queued in the room are dropped: there is nobody to answer, and a client that got no answer
    /// resends by id.
    public func disconnect() {
        connection.markClosed()
        runtime.deliver(.disconnect(connection), to: slot)
    }
}
