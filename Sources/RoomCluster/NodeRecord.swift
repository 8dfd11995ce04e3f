public import Foundation

/// A node in the control plane's table, for `GET /cluster` and the logs.
public struct NodeRecord: Sendable, Equatable {
    public var id: String
    public var incarnation: Int64
    public var address: String
    /// When its lease ends, by the database's clock.
    public var leaseExpiresAt: Date
    /// Whether its lease was live when read.
    public var isLive: Bool
    /// Whether it is handing its rooms over before it stops.
    public var isDraining: Bool
    /// Rooms this incarnation owns.
    public var rooms: Int
    /// The connections it held at its last renewal.
    public var connections: Int
}
