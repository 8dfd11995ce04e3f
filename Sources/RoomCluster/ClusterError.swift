/// Why the control plane refused or failed.
public struct ClusterError: Error, CustomStringConvertible, Sendable {
    public enum Kind: Sendable, Equatable {
        /// The PostgreSQL URL (or the variable meant to hold it) is unusable.
        case invalidURL
        /// PostgreSQL could not be reached or answered with an error.
        case unreachable
        /// The control plane's tables were migrated by a newer build than this one.
        case schemaTooNew
        /// Another process holds this node ID's lease (two nodes configured with one `nodeID`, or
        /// the previous run of this node, whose lease has not expired yet).
        case nodeIDInUse
        /// This node's lease expired before it could renew it: other nodes may own its rooms now.
        case leaseLost
        /// The node asked for something it may not do while not joined (or after it left).
        case notJoined
    }

    public var kind: Kind
    public var message: String
    public var cause: (any Error)?

    public init(_ kind: Kind, _ message: String, cause: (any Error)? = nil) {
        self.kind = kind
        self.message = message
        self.cause = cause
    }

    public var description: String {
        guard let cause else { return message }
        return "\(message): \(String(reflecting: cause))"
    }
}
