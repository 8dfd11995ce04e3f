public import RoomRuntime

/// `{"type": "message", "seq", "id", "user", "text", "ts", ...}`: a stored message, to every
/// connection in the room, with the fields its class adds (``ChatField``).
public struct MessageFrame {
    let message: ChatMessage

    public init(_ message: ChatMessage) {
        self.message = message
    }

    /// The frame, written without `JSONEncoder` (every message sends one to everyone).
    public var frame: OutboundFrame {
        .jsonObject(capacity: 96 + message.text.utf8.count) { object in
            object.string("type", "message")
            object.integer("seq", message.seq)
            object.string("id", message.id)
            object.string("user", message.user)
            object.string("text", message.text)
            object.integer("ts", message.ts)
            for field in message.fields {
                switch field.value {
                case .text(let text): object.string(key: field.name, text)
                case .integer(let integer): object.integer(key: field.name, integer)
                }
            }
        }
    }
}
