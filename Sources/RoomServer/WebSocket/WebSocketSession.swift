@_spi(Node) import RoomRuntime

/// An upgrade the server accepted: the room, who connected, and the node's socket settings.
/// ``RoomSocketHandler/open(_:context:)`` connects it.
struct WebSocketSession: Sendable {
    let target: WebSocketTarget
    /// Who connected, as the gatekeeper verified it.
    let identity: Identity
    let settings: SocketSettings
}
