@_spi(Node) package import RoomRuntime

/// A token the server verified: who it names, and which rooms it opens.
package struct VerifiedToken: Sendable {
    /// The user (`sub`), the claims, admin, and the expiry.
    package let identity: Identity
    /// The rooms the token opens (its `rooms` claim); nil when it has none, and opens any room.
    package let rooms: [RoomPattern]?

    /// Whether the token opens the room at `address`. A user's own inbox needs no claim.
    package func covers(_ address: RoomAddress) -> Bool {
        if address.kind == InboxRoutes.kind, address.id == identity.user { return true }
        guard let rooms else { return true }
        return rooms.contains { $0.covers(address) }
    }
}
