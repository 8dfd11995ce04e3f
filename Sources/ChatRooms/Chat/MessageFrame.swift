/// `{"type": "message", "seq", "id", "user", "text", "ts"}`: a stored message, to every
/// connection in the room.
struct MessageFrame: Encodable {
    let type = "message"
    let seq: Int64
    let id: String
    let user: String
    let text: String
    let ts: Int64

    init(_ message: ChatMessage) {
        seq = message.seq
        id = message.id
        user = message.user
        text = message.text
        ts = message.ts
    }
}
