import Logging
@_spi(Node) import RoomRuntime

/// What every WebSocket of a node shares: the runtime, the gatekeeper, the open sockets, and the
/// limits and timeouts. One per server; each socket's handler holds a reference, so that an idle
/// socket carries none of this itself.
final class SocketSettings: Sendable {
    let runtime: RoomRuntime
    let gatekeeper: Gatekeeper
    let sockets: SocketRegistry
    /// Counts open WebSockets (the `rooms_websockets_open` gauge).
    let budget: ConnectionBudget
    let maxMessageBytes: Int
    let maxQueuedFrames: Int
    /// How long a client has to answer a close the server started, once the close frame is on its
    /// way, before its connection is cut.
    let closeTimeout: Duration
    /// How long a close the server started may wait behind frames the client has not read yet.
    let closeDrainTimeout: Duration
    /// How long a STOMP client has, once upgraded, to send `CONNECT`.
    let stompConnectTimeout: Duration
    /// The heart-beat STOMP's `CONNECTED` offers each way, in milliseconds (0 for none).
    let stompHeartBeatMilliseconds: Int
    let logger: Logger

    init(
        runtime: RoomRuntime, gatekeeper: Gatekeeper, sockets: SocketRegistry, budget: ConnectionBudget,
        maxMessageBytes: Int,
        maxQueuedFrames: Int, closeTimeout: Duration, closeDrainTimeout: Duration, stompConnectTimeout: Duration,
        stompHeartBeat: Duration, logger: Logger
    ) {
        self.runtime = runtime
        self.gatekeeper = gatekeeper
        self.sockets = sockets
        self.budget = budget
        self.maxMessageBytes = maxMessageBytes
        self.maxQueuedFrames = maxQueuedFrames
        self.closeTimeout = closeTimeout
        self.closeDrainTimeout = closeDrainTimeout
        self.stompConnectTimeout = stompConnectTimeout
        self.stompHeartBeatMilliseconds = Int(stompHeartBeat.milliseconds)
        self.logger = logger
    }
}
