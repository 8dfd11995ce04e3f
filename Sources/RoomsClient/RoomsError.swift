/// An error: one the server answered (its `code` is one of docs/PROTOCOL.md's error codes, such
/// as `text_too_long` or `not_a_member`), or the client's own:
///
/// | code | when |
/// |---|---|
/// | `invalid_url` | the URL is not `ws[s]://HOST/rooms/{kind}/{id}/ws` or `ws[s]://HOST/inbox/ws` |
/// | `closed` | the client stopped (``RoomClient/close()`` or a terminal close) before the ack came |
/// | `outbox_full` | ``RoomClientOptions/outboxLimit`` sends already wait for their ack |
/// | `payload_too_large` | the `send` frame is larger than ``RoomClientOptions/maxFrameBytes`` |
/// | `not_connected` | an HTTP request could not be made (the server is unreachable) |
/// | `invalid_response` | the server's answer was not what the protocol says |
public struct RoomsError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The error code.
    public var code: String
    /// What happened, for people.
    public var message: String

    /// An error with `code` and `message`.
    public init(code: String, message: String = "") {
        self.code = code
        self.message = message
    }

    public var description: String { message.isEmpty ? code : "\(code): \(message)" }
}
