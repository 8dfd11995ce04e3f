/// One room in a user's inbox: `{"kind", "id", "lastSeq", "readSeq", "unread", "last",
/// "updatedAt"}`, as `GET /inbox` lists it and the `inbox` frame carries it.
public struct InboxEntry: Codable, Sendable, Equatable {
    /// The room's last message, as the inbox shows it: `{"seq", "user", "text", "ts"}`, the text
    /// cut to its first ``maxTextBytes`` bytes (at a character boundary).
    public struct LastMessage: Codable, Sendable, Equatable {
        /// The most of a message's text an inbox keeps, in UTF-8 bytes.
        public static let maxTextBytes = 200

        public let seq: Int64
        public let user: String
        public let text: String
        public let ts: Int64

        /// The inbox's view of `message`.
        public init(_ message: ChatMessage) {
            seq = message.seq
            user = message.user
            text = Self.prefix(of: message.text, bytes: Self.maxTextBytes)
            ts = message.ts
        }

        /// The longest prefix of `text` that is at most `bytes` bytes of UTF-8.
        static func prefix(of text: String, bytes: Int) -> String {
            guard text.utf8.count > bytes else { return text }
            var prefix = ""
            var used = 0
            for character in text {
                let size = character.utf8.count
                guard used + size <= bytes else { break }
                prefix.append(character)
                used += size
            }
            return prefix
        }
    }

    /// The room's kind.
    public let kind: String
    /// The room's id.
    public let id: String
    /// The room's last sequence number.
    public let lastSeq: Int64
    /// The last `seq` the user read there.
    public let readSeq: Int64
    /// The messages after `readSeq` the user did not send.
    public let unread: Int
    /// The room's last message, if it has one.
    public let last: LastMessage?
    /// When the room last changed for the inbox's order (its last message, or the user joining
    /// it), in milliseconds since 1970.
    public let updatedAt: Int64
}
