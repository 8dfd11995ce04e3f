import Foundation
import Synchronization

/// One client connected to a room.
///
/// A connection outlives the room's hibernation: while the room is out of memory its sockets stay
/// open, with their tags and attachment, and the next event that arrives on one of them wakes the
/// room. Send to it with ``RoomContext/send(_:to:)``; label it with
/// ``RoomContext/setTags(_:for:)`` and ``RoomContext/setAttachment(_:for:)``.
public final class RoomConnection: Sendable, Hashable, CustomStringConvertible {
    /// A process-unique number for a connection.
    public typealias ID = UInt64

    /// The largest attachment, in bytes of JSON.
    public static let maxAttachmentBytes = 2_048
    /// The most tags on one connection.
    public static let maxTags = 16
    /// The longest tag, in UTF-8 bytes.
    public static let maxTagBytes = 128

    /// This connection's number, unique in this process.
    public let id: ID
    /// Who connected, as the server authenticated it (with `auth.mode: "jwt"`, the token's `sub`).
    public let user: String
    /// The query parameters of the connect request, decoded (e.g. `user`, `after`).
    public let parameters: [String: String]
    /// When the connection was opened, in milliseconds since 1970.
    public let connectedAt: Int64

    let transport: any ConnectionTransport
    /// Whether another node forwarded this connection here: it is never forwarded again (a room
    /// this node does not own refuses it, and the other node asks the cluster again).
    let viaPeer: Bool
    /// In a cluster, the route to the node that runs this connection's room, when it is not
    /// this node (set once, when its connect is forwarded).
    private let forwarding = Mutex<(any RoomRoute)?>(nil)

    private struct Labels {
        var identity: Identity
        var tags: Set<String> = []
        var attachment: Data?
        var lastPingAt: Int64?
    }

    private let labels: Mutex<Labels>

    /// The frames of this connection queued or running in its room and not yet answered, and the
    /// reader to call once that number drops (see ``ConnectionHandle/offer(_:whenReady:)``).
    private struct Flow {
        var inFlight = 0
        var closed = false
        var reader: (@Sendable () -> Void)?
        var readerLimit = 0
    }

    private let flow = Mutex(Flow())

    private static let nextID = Atomic<UInt64>(1)

    /// Who connected, with the claims of their token. A client may refresh its token on a live
    /// connection (an `auth` frame, for the same user): this is the latest one.
    public var identity: Identity { labels.withLock { $0.identity } }

    /// The tags the room gave this connection (see ``RoomContext/setTags(_:for:)``).
    public var tags: Set<String> { labels.withLock { $0.tags } }

    /// When the client last sent `{"type": "ping"}`, in milliseconds since 1970; nil if never.
    ///
    /// The runtime answers pings itself, without waking a hibernated room.
    public var lastPingAt: Int64? { labels.withLock { $0.lastPingAt } }

    /// The attachment the room stored on this connection, decoded as `T`; nil if none.
    public func attachment<T: Decodable>(as type: T.Type) throws -> T? {
        guard let data = labels.withLock({ $0.attachment }) else { return nil }
        return try JSONDecoder().decode(T.self, from: data)
    }

    /// The client refreshed its token (same user).
    func setIdentity(_ identity: Identity) {
        labels.withLock { $0.identity = identity }
    }

    func setTags(_ tags: Set<String>) {
        labels.withLock { $0.tags = tags }
    }

    func setAttachment(_ data: Data?) {
        labels.withLock { $0.attachment = data }
    }

    func notePing(at time: Int64) {
        labels.withLock { $0.lastPingAt = time }
    }

    // MARK: - Frames in flight

    /// Whether the client's socket closed: frames of it still queued are dropped unanswered.
    var isClosed: Bool { flow.withLock { $0.closed } }

    /// Counts a frame handed to the room.
    func startFrame() {
        flow.withLock { $0.inFlight += 1 }
    }

    /// A frame of this connection was answered (acked, refused or dropped).
    func finishFrame() {
        let reader: (@Sendable () -> Void)? = flow.withLock { flow in
            flow.inFlight -= 1
            guard let reader = flow.reader, flow.inFlight < flow.readerLimit else { return nil }
            flow.reader = nil
            return reader
        }
        reader?()
    }

    /// Whether fewer than `limit` frames of this connection are in flight (or it closed): true at
    /// once, or false after keeping `ready` to call once they are. One reader waits at a time.
    func whenFewerInFlight(than limit: Int, _ ready: @escaping @Sendable () -> Void) -> Bool {
        flow.withLock { flow in
            guard flow.inFlight >= limit, !flow.closed else { return true }
            flow.reader = ready
            flow.readerLimit = limit
            return false
        }
    }

    /// The socket closed: a waiting reader is released, and queued frames will be dropped.
    func markClosed() {
        let reader: (@Sendable () -> Void)? = flow.withLock { flow in
            flow.closed = true
            defer { flow.reader = nil }
            return flow.reader
        }
        reader?()
    }

    /// The number of frames in flight (for tests and metrics).
    var framesInFlight: Int { flow.withLock { $0.inFlight } }

    /// The route this connection's events take to its room on another node; nil when its room
    /// runs here.
    var route: (any RoomRoute)? { forwarding.withLock { $0 } }

    func setRoute(_ route: any RoomRoute) {
        forwarding.withLock { $0 = route }
    }

    /// The transport to the client, for a ``RoomRoute`` that brings the room's frames back from
    /// another node.
    @_spi(Node) public var clientTransport: any ConnectionTransport { transport }

    /// A message forwarded to the room's node was answered there (see ``RoomRoute``): the
    /// connection may send one more.
    @_spi(Node) public func frameAnswered() { finishFrame() }

    /// Refuses the connection: an `error` frame, then the close code for `error`.
    func refuse(with error: RoomError) {
        transport.send(ErrorFrame.frame(for: error))
        transport.close(code: CloseCode(closingFor: error), reason: error.code.rawValue)
    }

    /// Makes a connection for `identity` over `transport`.
    @_spi(Node)
    public init(
        identity: Identity, parameters: [String: String] = [:], transport: any ConnectionTransport, viaPeer: Bool = false
    ) {
        self.viaPeer = viaPeer
        self.id = Self.nextID.wrappingAdd(1, ordering: .relaxed).oldValue
        self.user = identity.user
        self.labels = Mutex(Labels(identity: identity))
        self.parameters = parameters
        self.connectedAt = WallClock.millisecondsSince1970()
        self.transport = transport
    }

    /// Makes a connection for a self-named `user` over `transport`.
    @_spi(Node)
    public convenience init(user: String, parameters: [String: String] = [:], transport: any ConnectionTransport) {
        self.init(identity: .named(user), parameters: parameters, transport: transport)
    }

    public static func == (lhs: RoomConnection, rhs: RoomConnection) -> Bool { lhs === rhs }
    public func hash(into hasher: inout Hasher) { hasher.combine(id) }
    public var description: String { "connection \(id) (\(user))" }
}
