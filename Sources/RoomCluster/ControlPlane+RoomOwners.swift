@_spi(Node) public import RoomRuntime

/// The runtime asks the control plane who serves a room.
@_spi(Node)
extension ControlPlane: RoomOwners {
    public var isLeaseValid: Bool { lease.isValid }

    public func acquire(_ address: RoomAddress) async -> RoomOwnerDecision {
        do {
            switch try await acquire(kind: address.kind, id: address.id) {
            case .mine(let epoch):
                return .owned(epoch: epoch)
            case .elsewhere(let node, let url, _):
                return .elsewhere(node: node, url: url)
            }
        } catch {
            return .unavailable(reason: error.message)
        }
    }
}
