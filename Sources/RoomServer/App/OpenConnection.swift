@_spi(Node) import RoomRuntime

/// A client connection the node keeps track of (a WebSocket's ``Outbox``, a Server-Sent Events
/// stream's ``EventStreamTransport``), so that a shutdown can close each with 1001 and wait for
/// them, and the heartbeat can reach each.
protocol OpenConnection: ConnectionTransport, AnyObject {
    /// Whether a close was asked for.
    var isClosing: Bool { get }
    /// The node's heartbeat: a WebSocket pings its client; a stream has its own keep-alive.
    func heartbeat()
}
