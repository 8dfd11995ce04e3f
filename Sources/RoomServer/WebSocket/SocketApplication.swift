import NIOCore
@_spi(Node) import RoomRuntime

/// What a WebSocket speaks once upgraded: DurableRooms' own frames to one room
/// (``RoomSocketApplication``), or STOMP to many (``StompApplication``).
///
/// The ``WebSocketHandler`` keeps the WebSocket itself (frames, fragments, pings, closes, the
/// heartbeat) and hands the application each whole message, in order. Every method runs on the
/// socket's event loop.
protocol SocketApplication: AnyObject {
    /// The largest message the application takes, in bytes; a longer one closes the socket with
    /// 1009.
    var maxMessageBytes: Int { get }

    /// The socket is open: frames for the client go to `outbox`.
    func open(outbox: Outbox, context: ChannelHandlerContext)

    /// A whole message from the client. Returns false when the client must wait: the handler
    /// stops reading the socket and holds the messages it already read until `resume` is called
    /// (once, from any thread). `resume` is the same closure every time.
    func receive(_ message: ClientMessage, resume: @escaping @Sendable () -> Void) -> Bool

    /// The connection ended (called once): the application lets go of its rooms.
    func end()

    /// What the node's registry holds for this socket, so that a shutdown closes it: its outbox,
    /// or a wrapper that says goodbye in the application's own words first.
    func registration(for outbox: Outbox) -> any OpenConnection
}

extension SocketApplication {
    func registration(for outbox: Outbox) -> any OpenConnection { outbox }
}
