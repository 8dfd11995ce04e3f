@_spi(Node) import RoomRuntime

/// What one client's WebSocket needs once it is upgraded: its room, who connected, and the node's
/// limits. ``RoomSocketHandler`` runs it on the socket's channel.
struct WebSocketSession: Sendable {
    let target: WebSocketTarget
    /// Who connected, as the gatekeeper verified it.
    let identity: Identity
    let gatekeeper: Gatekeeper
    let runtime: RoomRuntime
    let sockets: SocketRegistry
    let maxMessageBytes: Int
    let maxQueuedFrames: Int
    /// How long a client has to answer a close the server started, once the close frame is on its
    /// way, before its connection is cut.
    let closeTimeout: Duration
    /// How long a close the server started may wait behind frames the client has not read yet.
    let closeDrainTimeout: Duration
}
