public import Foundation

/// The `cluster` section: how this node joins the others on PostgreSQL (docs/CLUSTER.md). Absent,
/// the node runs alone.
public struct ClusterSettings: Sendable, Equatable {
    /// The environment variable that holds the PostgreSQL URL (never the URL itself: it holds a
    /// password).
    public var postgresURLEnv: String
    /// This node's ID, stable across restarts.
    public var nodeID: String
    /// The base URL other nodes and clients reach this node at.
    public var advertise: URL
    /// How long a node's lease lasts without renewal: the longest its rooms stay unserved after it
    /// dies.
    public var lease: Duration = .seconds(10)
}
