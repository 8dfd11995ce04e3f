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

    /// A message arrived from the client. It is queued in the room's mailbox; the result says
    /// whether the connection may send more: true at once, unless the connection has
    /// `maxFramesInFlight` frames unanswered or the room's mailbox is full, in which case it is
    /// false and `ready` is called (once, from any thread) when the room has caught up. A server
    /// that reads the socket only while it may send more stops reading a client that writes faster
    /// than its room commits, and TCP slows the client down: nothing is buffered without bound, and
    /// nothing is dropped.
    ///
    /// A heartbeat (`{"type": "ping"}`) is answered here with `{"type": "pong"}`, without
    /// reaching (or waking) the room.
    public func offer(_ message: ClientMessage, whenReady ready: @escaping @Sendable () -> Void) -> Bool {
        if case .text(let text) = message, let pong = Heartbeat.pong(answering: text) {
            connection.notePing(at: WallClock.millisecondsSince1970())
            connection.transport.send(pong)
            return true
        }
        connection.startFrame()
        let routed = runtime.deliver(.message(connection, message), to: slot)
        let limit = runtime.configuration.maxFramesInFlight
        guard routed.mailboxFull else { return connection.whenFewerInFlight(than: limit, ready) }
        // Rare: wait for the connection's frames, then for room in the mailbox.
        let slot = routed.slot
        return connection.whenFewerInFlight(than: limit) { if slot.whenSpace(ready) { ready() } }
            && slot.whenSpace(ready)
    }

    /// ``offer(_:whenReady:)``, returning once the connection may send more.
    public func receive(_ message: ClientMessage) async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            if offer(message, whenReady: { continuation.resume() }) { continuation.resume() }
        }
    }

    /// The client refreshed its token: `identity` (for the same user) replaces the connection's.
    public func refresh(_ identity: Identity) {
        precondition(identity.user == connection.user, "a refreshed identity is for the same user")
        connection.setIdentity(identity)
        connection.route?.refresh(identity, of: connection)
    }

    /// The client's socket closed (or the server closed it). Frames of this connection still
    /// queued in the room are dropped: there is nobody to answer, and a client that got no answer
    /// resends by id.
    public func disconnect() {
        connection.markClosed()
        runtime.deliver(.disconnect(connection), to: slot)
    }
}
