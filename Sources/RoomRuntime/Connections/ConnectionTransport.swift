/// The server side of one client connection, as the runtime sees it.
///
/// The server implements it over a WebSocket; tests implement it over an array. Both methods are
/// called from shard threads and must return at once: a transport queues frames for its socket and
/// never blocks a shard.
public protocol ConnectionTransport: Sendable {
    /// Queues `frame` for the client. A closed transport drops it.
    func send(_ frame: OutboundFrame)

    /// Closes the connection with `code` after the frames already queued.
    func close(code: CloseCode, reason: String)
}
