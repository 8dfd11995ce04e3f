import Foundation
import RoomCluster

/// `GET /cluster` (admin): the nodes of the cluster, their leases, rooms and connections
/// (docs/PROTOCOL.md).
struct ClusterAnswer: Encodable, Sendable {
    struct Node: Encodable, Sendable {
        var id: String
        var address: String
        var incarnation: Int64
        /// When its lease ends, in milliseconds since 1970, by PostgreSQL's clock.
        var leaseExpiresAt: Int64
        var live: Bool
        var draining: Bool
        /// Rooms it owns.
        var rooms: Int
        /// Connections it held at its last renewal.
        var connections: Int

        init(_ record: NodeRecord) {
            id = record.id
            address = record.address
            incarnation = record.incarnation
            leaseExpiresAt = Int64((record.leaseExpiresAt.timeIntervalSince1970 * 1000).rounded())
            live = record.isLive
            draining = record.isDraining
            rooms = record.rooms
            connections = record.connections
        }
    }

    /// Whether the node runs in a cluster.
    var cluster: Bool
    /// The node that answered.
    var node: String?
    var nodes: [Node]
}
