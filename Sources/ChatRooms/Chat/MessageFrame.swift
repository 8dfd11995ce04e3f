/// `{"type": "message", "seq", "id", "user", "text", "ts"}`: a stored message, to every
/// connection in the room. An assistant's answer in an AI room also carries `stream`, `replyTo`
/// and `status`.
package struct MessageFrame: Encodable {
    let type = "message"
    let seq: Int64
    let id: String
    let user: String
    let text: String
    let ts: Int64
    let stream: String?
    let replyTo: Int64?
    let status: String?

    package init(_ message: ChatMessage) {
        seq = message.seq
        id = message.id
        user = message.user
        text = message.text
        ts = message.ts
        stream = message.stream
        replyTo = message.replyTo
        status = message.status
    }
}
