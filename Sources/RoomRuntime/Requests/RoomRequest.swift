import Foundation
public import NIOCore

/// An HTTP request addressed to a room, without HTTP types.
///
/// The server routes `METHOD /rooms/{kind}/{id}/{path...}` to the room's
/// ``Room/onRequest(_:context:)`` hook with ``path`` holding the components after the id, so
/// `GET /rooms/chat/lobby/messages?limit=10` arrives as method `GET`, path `["messages"]` and
/// query `["limit": "10"]`.
public struct RoomRequest: Sendable {
    /// The HTTP method, upper case (`GET`, `POST`, ...).
    public var method: String
    /// The path components after `/rooms/{kind}/{id}/`, percent-decoded.
    public var path: [String]
    /// The query parameters, percent-decoded. A repeated name keeps its last value.
    public var query: [String: String]
    /// The request body (empty when there is none).
    public var body: ByteBuffer
    /// The room that sent this request with ``RoomContext/call(_:to:timeout:)``; nil for HTTP.
    public var caller: RoomAddress?

    public init(method: String, path: [String], query: [String: String] = [:], body: ByteBuffer = ByteBuffer()) {
        self.method = method
        self.path = path
        self.query = query
        self.body = body
    }

    /// Decodes the body as a JSON object of type `T`.
    ///
    /// - Throws: ``RoomError`` `invalid_json`, `missing_field` or `invalid_field`.
    public func decodeJSON<T: Decodable>(_ type: T.Type) throws(RoomError) -> T {
        try JSONFrameDecoding.decode(T.self, from: Data(body.readableBytesView))
    }

    /// The query parameter `name` as an integer within `range`, or nil when absent.
    ///
    /// - Throws: ``RoomError`` `invalid_query` when present but not an integer in `range`.
    public func integer(_ name: String, in range: ClosedRange<Int64>) throws(RoomError) -> Int64? {
        guard let text = query[name] else { return nil }
        guard let value = Int64(text), range.contains(value) else {
            throw .badRequest(.invalidQuery, "'\(name)' must be an integer from \(range.lowerBound) to \(range.upperBound)")
        }
        return value
    }
}
