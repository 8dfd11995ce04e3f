import HummingbirdCore
@_spi(Node) import RoomRuntime
import RoomServer

/// What names a room or a user in a request: the request target (`/rooms/{kind}/{id}/...?query`)
/// as the WebSocket and HTTP routes read it, a STOMP destination, a token's `rooms` pattern.
///
/// Invariants: a room path is refused `invalid_kind` or `invalid_room_id`, or gives a valid
/// address that a pattern naming it covers and that a STOMP destination names back; a query's
/// `wait` and `user` are refused `invalid_query` and `invalid_user` or are in range.
enum RoomPathFuzzing {
    static func run(_ bytes: [UInt8]) throws(FuzzFailure) {
        let text = String(decoding: bytes, as: UTF8.self)
        let uri = URI(text)
        let query = Gatekeeper.withoutToken(RoomPath.query(uri))
        try FuzzFailure.check(query["token"] == nil, "the token stayed in the query")
        do {
            if let seconds = try LongPolls.wait(in: query) {
                try FuzzFailure.check((1...30).contains(seconds), "wait=\(seconds) accepted")
            }
        } catch {
            try ExpectedErrors.check(error, in: ["invalid_query"], "wait")
        }
        do {
            if let user = query["user"] {
                let valid = try UserName.validate(user)
                try FuzzFailure.check(!valid.isEmpty && valid.utf8.count <= UserName.maxBytes, "user \(valid) accepted")
            }
        } catch {
            try ExpectedErrors.check(error, in: ["invalid_user"], "user")
        }
        let components = uri.path.split(separator: "/", omittingEmptySubsequences: false)
        if components.count >= 4, components[1] == "rooms" {
            do {
                try checkAddress(try RoomPath.address(kind: components[2], id: components[3]))
            } catch let error as FuzzFailure {
                throw error
            } catch {
                try ExpectedErrors.check(error, in: ["invalid_kind", "invalid_room_id"], "room path")
            }
        }
        do {
            try checkAddress(try StompDestination.address(text))
        } catch let error as FuzzFailure {
            throw error
        } catch {
            try ExpectedErrors.check(error, in: ["invalid_destination", "invalid_kind", "invalid_room_id"], "destination")
        }
        if let pattern = RoomPattern(text), !pattern.isPrefix {
            try FuzzFailure.check(
                (try? RoomAddress(kind: pattern.kind, id: pattern.id)) != nil, "pattern \(text) names no valid room")
        }
    }

    private static func checkAddress(_ address: RoomAddress) throws(FuzzFailure) {
        try FuzzFailure.check(
            RoomAddress.isValidKind(address.kind) && RoomAddress.isValidID(address.id), "invalid address \(address) accepted")
        try FuzzFailure.check(RoomPattern(address.path)?.covers(address) == true, "the pattern \(address.path) misses it")
        let destination = StompDestination.name(of: address)
        try FuzzFailure.check(
            (try? StompDestination.address(destination)) == address, "destination \(destination) names another room")
    }
}
