public import RoomRuntime

/// `{"type": "message", "seq", "id", "user", "text", "ts"}`: a stored message, to every
/// connection in the room. An assistant's answer in an AI room also carries `stream`, `replyTo`
/// and `status`.
public struct MessageFrame {
    let seq: Int64
    let id: String
    let user: String
    let text: String
    let ts: Int64
    let stream: String?
    let replyTo: Int64?
    let status: String?

    public init(_ message: ChatMessage) {
        seq = message.seq
        id = message.id
        user = message.user
        text = message.text
        ts = message.ts
        stream = message.stream
        replyTo = message.replyTo
        status = message.status
    }

    /// The frame, written without `JSONEncoder` (every message sends one to everyone).
    public var frame: OutboundFrame {
        .jsonObject(capacity: 96 + text.utf8.count) { object in
            object.string("type", "message")
            object.integer("seq", seq)
            object.string("id", id)
            object.string("user", user)
            object.string("text", text)
            object.integer("ts", ts)
            object.string("stream", stream)
            object.integer("replyTo", replyTo)
            object.string("status", status)
        }
    }
}
