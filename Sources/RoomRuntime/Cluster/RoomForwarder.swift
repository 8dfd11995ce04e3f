/// In a cluster, how a node reaches the rooms other nodes own: the runtime asks it for a route
/// when the control plane says another node owns a room, and from then on hands that route the
/// room's events (connections, their messages and closes, requests and calls from other rooms)
/// in the order they arrived, instead of running the room itself. See docs/CLUSTER.md,
/// "Forwarding".
///
/// The server implements it over one multiplexed connection per peer node (`NodeLinks`); the
/// runtime knows only this.
@_spi(Node)
public protocol RoomForwarder: Sendable {
    /// A route to the room at `address`, which `node` (reachable at `url`) owns; nil when the
    /// node cannot be reached (the room's events are then refused with `room_unavailable`).
    func route(to node: String, url: String, for address: RoomAddress) -> (any RoomRoute)?

    /// The route given for `address` before, while it is still open: the runtime takes it
    /// without asking the control plane (a room's owner changes only when its node stops, and
    /// then the route closes).
    func knownRoute(for address: RoomAddress) -> (any RoomRoute)?
}

/// The way to one room on the node that owns it.
///
/// Every method is called with the room's slot locked (that is what keeps the room's events in
/// order while they are forwarded) and must return at once: queue, never wait, never call back
/// into the runtime.
@_spi(Node)
public protocol RoomRoute: AnyObject, Sendable {
    /// False once the route no longer leads to the room (its link closed, or the node said it no
    /// longer owns the room): the runtime then asks the control plane again.
    var isOpen: Bool { get }

    /// A client connected: its frames go to `connection`'s transport from now on; each message
    /// of it forwarded with ``send(_:of:)`` is answered once with
    /// ``RoomConnection/frameAnswered()``.
    func open(_ connection: RoomConnection)
    /// A message of a connection opened with ``open(_:)``.
    func send(_ message: ClientMessage, of connection: RoomConnection)
    /// The client refreshed its token.
    func refresh(_ identity: Identity, of connection: RoomConnection)
    /// The client's socket closed.
    func close(_ connection: RoomConnection)
    /// An HTTP request, or a call from a room of this node; `answer` is called once.
    func request(_ request: RoomRequest, answer: @escaping @Sendable (Result<RoomResponse, RoomError>) -> Void)
}

@_spi(Node)
extension RoomError {
    /// What a node answers for a room it was asked for by another node but does not own (any
    /// more): the asking node drops its route and asks the control plane again.
    public static let movedMessage = "the room is not served by this node; ask the cluster again"

    /// Whether this error says the room moved (see ``movedMessage``).
    public var isMoved: Bool { code == .roomUnavailable && message == Self.movedMessage }

    static let moved = RoomError.unavailable(.roomUnavailable, movedMessage)
}
