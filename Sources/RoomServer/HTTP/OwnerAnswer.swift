/// `GET /rooms/{kind}/{id}/owner`: which node serves a room, so that a load balancer or a client
/// can go straight to it (docs/PROTOCOL.md).
struct OwnerAnswer: Encodable, Sendable {
    var kind: String
    var id: String
    /// Whether the node runs in a cluster; when false, this node serves every room.
    var cluster: Bool
    /// The owning node's ID; nil when no live node owns the room (the first node to serve it
    /// takes it).
    var node: String?
    /// The owning node's advertised URL.
    var url: String?
    /// The room's owner epoch (raised at every takeover).
    var epoch: Int64?
    /// Whether the node that answered is the owner.
    var local: Bool
}
