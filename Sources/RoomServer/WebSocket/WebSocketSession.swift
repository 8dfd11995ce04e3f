@_spi(Node) import RoomRuntime

/// An upgrade the server accepted: what the socket will speak, and the node's socket settings.
/// ``WebSocketHandler/open(_:context:)`` starts it.
struct WebSocketSession: Sendable {
    enum Speaks: Sendable {
        /// DurableRooms' own frames, to the room of `target`, for `identity` as the gatekeeper
        /// verified it.
        case room(WebSocketTarget, Identity)
        /// STOMP at `/stomp`: the client names itself in its `CONNECT` frame.
        case stomp
        /// A link from node `peer` of the cluster, at `/cluster/link` (``PeerLinkApplication``).
        case peer(String, LongPolls)
    }

    let speaks: Speaks
    /// The subprotocol the server chose from the client's `Sec-WebSocket-Protocol`, if any.
    var subprotocol: String?
    let settings: SocketSettings

    /// The application that runs the socket.
    func makeApplication() -> any SocketApplication {
        switch speaks {
        case .room(let target, let identity):
            RoomSocketApplication(target: target, identity: identity, settings: settings)
        case .stomp:
            StompApplication(settings: settings, connectTimeout: settings.stompConnectTimeout)
        case .peer(let node, let longPolls):
            PeerLinkApplication(peer: node, settings: settings, longPolls: longPolls)
        }
    }
}
