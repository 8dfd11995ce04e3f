/// In a cluster, who serves which room: the runtime asks before it brings a room into memory, and
/// serves it only when this node owns it (see docs/CLUSTER.md). A node that runs alone has none.
///
/// `RoomCluster`'s control plane on PostgreSQL is the implementation; the runtime knows only this.
@_spi(Node)
public protocol RoomOwners: Sendable {
    /// Takes `address` for this node if no other live node owns it, and says who does.
    func acquire(_ address: RoomAddress) async -> RoomOwnerDecision

    /// Whether this node's lease is live by its own, earlier, deadline: checked before every
    /// commit of a room it owns, so that none commits once another node could own the room.
    var isLeaseValid: Bool { get }
}

/// What ``RoomOwners/acquire(_:)`` decided.
@_spi(Node)
public enum RoomOwnerDecision: Sendable, Equatable {
    /// This node owns the room at `epoch`: the room's file is stamped with it, and every commit
    /// checks it, so that once another node takes the room over (with a higher epoch) this one
    /// can no longer write to it.
    case owned(epoch: Int64)
    /// Another node owns it, reachable at `url`.
    case elsewhere(node: String, url: String)
    /// Ownership could not be decided (the control plane is unreachable, or this node's lease
    /// is not live); the room is not served until it can be.
    case unavailable(reason: String)
}
