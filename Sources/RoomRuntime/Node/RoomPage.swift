import Foundation

/// One page of the node's rooms, as `GET /rooms` returns it.
@_spi(Node)
public struct RoomPage: Sendable, Encodable {
    /// A room in a listing.
    public struct Entry: Sendable, Encodable, Equatable {
        public let kind: String
        public let id: String
        /// When the room was created, in milliseconds since 1970.
        public let createdAt: Int64
        /// When the room was last active, in milliseconds since 1970 (recorded at activation and
        /// hibernation, and flushed every second).
        public let lastActiveAt: Int64
        /// Whether the room is in memory now.
        public let active: Bool
        /// The room's last sequence number when last recorded (at hibernation).
        public let lastSeq: Int64
    }

    /// The rooms, in (kind, id) order.
    public let rooms: [Entry]
    /// Pass as `cursor` to get the next page; nil on the last page.
    public let cursor: String?

    /// The cursor that continues after `address`.
    static func cursor(after address: RoomAddress) -> String {
        Data("\(address.kind)\u{0}\(address.id)".utf8).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    /// The room a cursor continues after.
    ///
    /// - Throws: ``RoomError`` `invalid_query` for a cursor this node did not make.
    static func address(fromCursor cursor: String) throws(RoomError) -> RoomAddress {
        var base64 = cursor.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while base64.count % 4 != 0 { base64 += "=" }
        guard let data = Data(base64Encoded: base64), let text = String(data: data, encoding: .utf8),
            let separator = text.firstIndex(of: "\u{0}")
        else {
            throw .badRequest(.invalidQuery, "'cursor' is not a cursor this server returned")
        }
        do {
            return try RoomAddress(kind: String(text[..<separator]), id: String(text[text.index(after: separator)...]))
        } catch {
            throw .badRequest(.invalidQuery, "'cursor' is not a cursor this server returned")
        }
    }
}
