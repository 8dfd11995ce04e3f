@_spi(Node) import RoomRuntime

/// One run of a node, as the control plane knows it.
public struct ClusterNode: Sendable, Equatable {
    /// The configured `nodeID`, stable across restarts.
    public var id: String
    /// This run's number: a node restarted under the same ID is a new incarnation, and rooms the
    /// old one owned are not the new one's until it takes them over (with a new epoch).
    public var incarnation: Int64
    /// The base URL other nodes and clients reach it at (`advertise`).
    public var address: String

    public init(id: String, incarnation: Int64, address: String) {
        self.id = id
        self.incarnation = incarnation
        self.address = address
    }

    /// Whether `id` can be a node ID (the runtime's rule: it names the node's folder).
    public static func isValidID(_ id: String) -> Bool {
        RuntimeConfiguration.isValidNodeID(id)
    }
}
