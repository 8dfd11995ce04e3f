import Foundation
import Synchronization

/// One client connected to a room.
///
/// A connection outlives the room's hibernation: while the room is out of memory its sockets stay
/// open, and the next event that arrives on one of them wakes the room. Send to it with
/// ``RoomContext/send(_:to:)``.
public final class RoomConnection: Sendable, Hashable, CustomStringConvertible {
    /// A process-unique number for a connection.
    public typealias ID = UInt64

    /// This connection's number, unique in this process.
    public let id: ID
    /// Who connected, as the server authenticated it.
    public let user: String
    /// The query parameters of the connect request, decoded (e.g. `user`, `after`).
    public let parameters: [String: String]
    /// When the connection was opened, in milliseconds since 1970.
    public let connectedAt: Int64

    let transport: any ConnectionTransport

    private static let nextID = Atomic<UInt64>(1)

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
