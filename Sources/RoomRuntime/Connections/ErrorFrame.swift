import NIOCore

/// The `error` frame: `{"type": "error", "code", "message", "id"?}`.
public struct ErrorFrame: Encodable, Sendable {
    public let type = "error"
    /// The error code (see docs/PROTOCOL.md).
    public let code: String
    /// A human-readable explanation.
    public let message: String
    /// The id of the client frame this error answers, if it had one.
    public let id: String?

    public init(_ error: RoomError) {
        code = error.code.rawValue
        message = error.message
        id = error.frameID
    }

    /// The encoded frame for `error`.
    public static func frame(for error: RoomError) -> OutboundFrame {
        (try? OutboundFrame.json(ErrorFrame(error))) ?? .text(#"{"type":"error","code":"internal_error","message":""}"#)
    }
}
