/// A stored chat message, as history returns it and as the `message` frame carries it.
public struct ChatMessage: Codable, Sendable, Equatable {
    /// The room's sequence number for the message: its position in history.
    public let seq: Int64
    /// The sender's id for the message (or one the server chose), unique per sender.
    public let id: String
    /// The sender.
    public let user: String
    /// The text.
    public let text: String
    /// When the message was stored, in milliseconds since 1970.
    public let ts: Int64
    /// For an assistant's answer in an AI room: the stream that produced it.
    public let stream: String?
    /// For an assistant's answer: the `seq` of the prompt it answers.
    public let replyTo: Int64?
    /// For an assistant's answer: `complete`, `cancelled`, `error` or `interrupted`.
    public let status: String?

    public init(
        seq: Int64, id: String, user: String, text: String, ts: Int64, stream: String? = nil, replyTo: Int64? = nil,
        status: String? = nil
    ) {
        self.seq = seq
        self.id = id
        self.user = user
        self.text = text
        self.ts = ts
        self.stream = stream
        self.replyTo = replyTo
        self.status = status
    }
}
