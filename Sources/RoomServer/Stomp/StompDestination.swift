@_spi(Node) package import RoomRuntime

/// STOMP destinations name rooms: `/topic/rooms/{kind}/{id}`.
///
/// The id is the rest of the destination after the kind's `/`, as is: a destination is an opaque
/// string in STOMP, so nothing is percent-decoded (an id may hold `/`).
package enum StompDestination {
    package static let prefix = "/topic/rooms/"

    /// The room `destination` names.
    ///
    /// - Throws: ``RoomError`` `invalid_destination`; `invalid_kind`, `invalid_room_id` or
    ///   `unknown_kind` for a room this node does not serve.
    static func address(_ destination: String, runtime: RoomRuntime) throws(RoomError) -> RoomAddress {
        let address = try address(destination)
        guard let configured = runtime.kind(named: address.kind), configured.hasRoomRoutes else {
            throw .notFound(.unknownKind, "kind '\(address.kind)' is not configured on this node")
        }
        return address
    }

    /// The room `destination` names, whether or not this node serves its kind.
    ///
    /// - Throws: ``RoomError`` `invalid_destination`, `invalid_kind` or `invalid_room_id`.
    package static func address(_ destination: String) throws(RoomError) -> RoomAddress {
        guard destination.hasPrefix(prefix) else {
            throw .badRequest(.invalidDestination, "a destination is \(prefix){kind}/{id}; got '\(destination)'")
        }
        let rest = destination.dropFirst(prefix.count)
        guard let slash = rest.firstIndex(of: "/") else {
            throw .badRequest(.invalidDestination, "a destination is \(prefix){kind}/{id}: it names no room id")
        }
        return try RoomAddress(kind: String(rest[..<slash]), id: String(rest[rest.index(after: slash)...]))
    }

    /// The destination of the room at `address`.
    package static func name(of address: RoomAddress) -> String {
        prefix + address.kind + "/" + address.id
    }
}
