import AIRooms
import ChatRooms
import ExampleRooms
import Foundation
@_spi(Node) import RoomRuntime

/// A client's text frame, decoded as every built-in room class decodes what it receives: chat
/// (`ClientFrame`, and a `POST`ed message), inbox updates, counter, doc (`op` and `cursor`),
/// game, AI chat, and the runtime's own reading of a frame's `id` and `type`. A relay room
/// decodes nothing: it sends every frame on as it came.
///
/// Invariant: every decoder accepts the frame or refuses it with `invalid_json`,
/// `missing_field` or `invalid_field` (with the frame's `id` when it can read one); nothing
/// traps.
enum ClientFrameFuzzing {
    static func run(_ bytes: [UInt8]) throws(FuzzFailure) {
        // A WebSocket text frame is valid UTF-8 (the server closes 1007 otherwise).
        let message = ClientMessage.text(String(decoding: bytes, as: UTF8.self))
        _ = message.frameID
        _ = message.frameType
        try decode(ClientFrame.self, from: message)
        try decode(PostedMessage.self, from: message)
        try decode(InboxUpdate.self, from: message)
        try decode(CounterCommand.self, from: message)
        try decode(DocumentCommand.self, from: message)
        try decode(OperationFrame.self, from: message)
        try decode(CursorFrame.self, from: message)
        try decode(GameCommand.self, from: message)
        try decode(AIClientFrame.self, from: message)
        try decode([String: JSONValue].self, from: message)
    }

    private static func decode<T: Decodable>(_ type: T.Type, from message: ClientMessage) throws(FuzzFailure) {
        do {
            _ = try message.decodeJSON(type)
        } catch {
            try ExpectedErrors.check(error, in: ExpectedErrors.frameDecoding, "\(type)")
        }
    }
}
