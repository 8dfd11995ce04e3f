@_spi(Node) import RoomRuntime

/// Users' inboxes at routes of their own (docs/PROTOCOL.md, "Inboxes"): `GET /inbox` and
/// `GET /inbox/ws` reach the caller's inbox room, `inbox/{user}`, and no other. The kind is
/// added by the configuration when the node has the `inbox` class, and hidden from
/// `/rooms/inbox/...`.
enum InboxRoutes {
    /// The kind, and the name of its class.
    static let kind = "inbox"

    /// The inbox kind, when `classes` has the class.
    static func kind(in classes: RoomClassRegistry) throws -> RoomKind? {
        guard let roomClass = classes.roomClass(named: kind) else { return nil }
        var inbox = try RoomKind(name: kind, roomClass: roomClass)
        inbox.hasRoomRoutes = false
        return inbox
    }

    /// The request for the caller's inbox page.
    static func page(query: [String: String], identity: Identity) -> RoomRequest {
        RoomRequest(method: "GET", path: ["rooms"], query: query, identity: identity)
    }
}
