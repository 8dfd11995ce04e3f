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
}
