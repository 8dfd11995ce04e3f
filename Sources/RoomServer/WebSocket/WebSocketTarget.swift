import Foundation
package import HummingbirdCore
@_spi(Node) package import RoomRuntime

/// What a WebSocket request asks for: `/rooms/{kind}/{id}/ws?user=NAME&...`, or the caller's
/// own inbox at `/inbox/ws`, validated. Who asks is the ``Gatekeeper``'s to say.
struct WebSocketTarget: Sendable {
    /// The room; for an inbox, the address is the caller's (``forCaller(_:)``).
    var address: RoomAddress
    /// The query parameters, percent-decoded (a token among them).
    let parameters: [String: String]
    /// Whether the target is the caller's inbox.
    var isInbox = false

    /// The target once the caller is known: their inbox, or the room as parsed.
    func forCaller(_ identity: Identity) throws(RoomError) -> WebSocketTarget {
        guard isInbox else { return self }
        var target = self
        target.address = try RoomAddress(kind: InboxRoutes.kind, id: identity.user)
        return target
    }

    /// Parses `uri` (raw, as on the request line).
    ///
    /// - Returns: nil when the path is not a room's WebSocket path.
    /// - Throws: ``RoomError`` `invalid_room_id`, `invalid_kind` or `unknown_kind`.
    static func parse(uri: String, runtime: RoomRuntime) throws(RoomError) -> WebSocketTarget? {
        let parsed = URI(uri)
        let components = parsed.path.split(separator: "/", omittingEmptySubsequences: false)
        if parsed.path == "/inbox/ws" {
            guard runtime.kind(named: InboxRoutes.kind) != nil else { return nil }
            // The owner is known once the caller is: a placeholder until then.
            return WebSocketTarget(
                address: try RoomAddress(kind: InboxRoutes.kind, id: "-"), parameters: RoomPath.query(parsed), isInbox: true)
        }
        guard components.count == 5, components[0].isEmpty, components[1] == "rooms", components[4] == "ws" else {
            return nil
        }
        let address = try RoomPath.address(kind: components[2], id: components[3], runtime: runtime)
        return WebSocketTarget(address: address, parameters: RoomPath.query(parsed))
    }
}

/// Reading room addresses and queries from raw request URIs.
package enum RoomPath {
    /// The address named by the raw path components `kind` and `id` (percent-encoded).
    static func address(kind: Substring, id: Substring, runtime: RoomRuntime) throws(RoomError) -> RoomAddress {
        let address = try address(kind: kind, id: id)
        guard let configured = runtime.kind(named: address.kind), configured.hasRoomRoutes else {
            throw .notFound(.unknownKind, "kind '\(address.kind)' is not configured on this node")
        }
        return address
    }

    /// The address named by the raw path components `kind` and `id`, whether or not this node
    /// serves its kind.
    ///
    /// - Throws: ``RoomError`` `invalid_room_id` or `invalid_kind`.
    package static func address(kind: Substring, id: Substring) throws(RoomError) -> RoomAddress {
        guard let id = decoded(id) else {
            throw .badRequest(.invalidRoomID, "the room id is not valid percent-encoded UTF-8")
        }
        guard let kind = decoded(kind) else {
            throw .badRequest(.invalidKind, "the kind is not valid percent-encoded UTF-8")
        }
        return try RoomAddress(kind: kind, id: id)
    }

    /// `component` percent-decoded; nil when that is not valid UTF-8. Most ids have no `%`, and
    /// Foundation's `removingPercentEncoding` costs a few microseconds even then.
    private static func decoded(_ component: Substring) -> String? {
        guard component.utf8.contains(UInt8(ascii: "%")) else { return String(component) }
        return String(component).removingPercentEncoding
    }

    /// The query parameters of `uri`, percent-decoded; a repeated name keeps its last value.
    package static func query(_ uri: URI) -> [String: String] {
        var parameters: [String: String] = [:]
        for (name, value) in uri.queryParameters {
            parameters[String(name)] = String(value)
        }
        return parameters
    }
}
