import Foundation
public import NIOCore

/// A room's answer to a ``RoomRequest``.
///
/// Like every output of a turn, a response leaves the room only after the turn's writes are
/// committed: a `201` means stored.
public struct RoomResponse: Sendable {
    /// The HTTP status code.
    public var status: Int
    /// The `Content-Type` of ``body``.
    public var contentType: String
    /// The response body.
    public var body: ByteBuffer
    /// Whether another node's room answered (the request was forwarded there).
    @_spi(Node) public var wasForwarded = false

    public init(status: Int, contentType: String = "application/json", body: ByteBuffer = ByteBuffer()) {
        self.status = status
        self.contentType = contentType
        self.body = body
    }

    /// A response whose body is `value` encoded as JSON.
    ///
    /// - Throws: ``RoomError`` `internal_error` when `value` cannot be encoded.
    public static func json(_ value: some Encodable, status: Int = 200) throws(RoomError) -> RoomResponse {
        RoomResponse(status: status, body: try OutboundFrame.json(value).payload)
    }

    /// A response whose body is the flat JSON object `build` writes: the fast way to answer a
    /// request that every message makes (see ``JSONObjectWriter``).
    public static func jsonObject(
        status: Int = 200, capacity: Int = 96, _ build: (inout JSONObjectWriter) -> Void
    ) -> RoomResponse {
        RoomResponse(status: status, body: OutboundFrame.jsonObject(capacity: capacity, build).payload)
    }
}
