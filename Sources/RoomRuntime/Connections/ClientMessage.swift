import Foundation
public import NIOCore

/// One complete message a client sent on its WebSocket.
public enum ClientMessage: Sendable {
    /// A text message (UTF-8).
    case text(String)
    /// A binary message.
    case binary(ByteBuffer)

    /// Decodes a text message as a JSON object of type `T`.
    ///
    /// - Throws: ``RoomError`` `binary_unsupported` for a binary message, `invalid_json` when the
    ///   text is not a JSON object, `missing_field` or `invalid_field` when it does not fit `T`.
    public func decodeJSON<T: Decodable>(_ type: T.Type) throws(RoomError) -> T {
        switch self {
        case .binary:
            throw .badRequest(.binaryUnsupported, "binary frames are not supported here; send JSON text frames")
        case .text(let text):
            return try JSONFrameDecoding.decode(T.self, from: Data(text.utf8))
        }
    }

    /// The `id` of a JSON text message, read leniently (nil when there is none or the message is
    /// not JSON): for the errors the runtime answers a frame with when the room cannot.
    public var frameID: String? {
        guard case .text(let text) = self else { return nil }
        struct Identified: Decodable { let id: String? }
        return (try? JSONDecoder().decode(Identified.self, from: Data(text.utf8)))?.id
    }

    /// The `type` of a JSON text message, read leniently (nil when there is none or the message
    /// is not JSON).
    public var frameType: String? {
        guard case .text(let text) = self else { return nil }
        struct Typed: Decodable { let type: String? }
        return (try? JSONDecoder().decode(Typed.self, from: Data(text.utf8)))?.type
    }
}
