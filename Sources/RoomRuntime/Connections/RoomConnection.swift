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
    /// Who connected, as the server authenticated it.
    public let user: String
    /// The query parameters of the connect request, decoded (e.g. `user`, `after`).
    public let parameters: [String: String]
    /// When the connection was opened, in milliseconds since 1970.
    public let connectedAt: Int64

    let transport: any ConnectionTransport

    private struct Labels {
        var tags: Set<String> = []
        var attachment: Data?
        var lastPingAt: Int64?
    }

    private let labels = Mutex(Labels())

    private static let nextID = Atomic<UInt64>(1)

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

    func setTags(_ tags: Set<String>) {
        labels.withLock { $0.tags = tags }
    }

    func setAttachment(_ data: Data?) {
        labels.withLock { $0.attachment = data }
    }

    func notePing(at time: Int64) {
        labels.withLock { $0.lastPingAt = time }
    }

    /// Makes a connection for `user` over `transport`.
    public init(user: String, parameters: [String: String] = [:], transport: any ConnectionTransport) {
        self.id = Self.nextID.wrappingAdd(1, ordering: .relaxed).oldValue
        self.user = user
        self.parameters = parameters
        self.connectedAt = WallClock.millisecondsSince1970()
        self.transport = transport
    }

    public static func == (lhs: RoomConnection, rhs: RoomConnection) -> Bool { lhs === rhs }
    public func hash(into hasher: inout Hasher) { hasher.combine(id) }
    public var description: String { "connection \(id) (\(user))" }
}
