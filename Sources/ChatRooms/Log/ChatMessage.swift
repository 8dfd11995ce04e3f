/// A stored chat message, as history returns it and as the `message` frame carries it:
/// `{"seq", "id", "user", "text", "ts"}`, then the fields the room's class adds (``ChatField``).
public struct ChatMessage: Codable, Sendable, Equatable {
    /// A field a composing class added, with its value on this message.
    public struct Field: Sendable, Equatable {
        public let name: String
        public let value: ChatFieldValue

        public init(name: String, value: ChatFieldValue) {
            self.name = name
            self.value = value
        }
    }

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
    /// The fields the room's class adds, in the order it declared them (absent ones left out).
    public let fields: [Field]

    public init(seq: Int64, id: String, user: String, text: String, ts: Int64, fields: [Field] = []) {
        self.seq = seq
        self.id = id
        self.user = user
        self.text = text
        self.ts = ts
        self.fields = fields
    }

    /// The value of the added field `name`, if the message has it.
    public subscript(field name: String) -> ChatFieldValue? {
        fields.first { $0.name == name }?.value
    }

    private struct Key: CodingKey {
        let stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    private static let coreKeys: Set = ["seq", "id", "user", "text", "ts"]

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: Key.self)
        seq = try container.decode(Int64.self, forKey: Key(stringValue: "seq"))
        id = try container.decode(String.self, forKey: Key(stringValue: "id"))
        user = try container.decode(String.self, forKey: Key(stringValue: "user"))
        text = try container.decode(String.self, forKey: Key(stringValue: "text"))
        ts = try container.decode(Int64.self, forKey: Key(stringValue: "ts"))
        fields = container.allKeys.filter { !Self.coreKeys.contains($0.stringValue) }
            .sorted { $0.stringValue < $1.stringValue }
            .compactMap { key in
                if let integer = try? container.decode(Int64.self, forKey: key) {
                    return Field(name: key.stringValue, value: .integer(integer))
                }
                if let text = try? container.decode(String.self, forKey: key) {
                    return Field(name: key.stringValue, value: .text(text))
                }
                return nil
            }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: Key.self)
        try container.encode(seq, forKey: Key(stringValue: "seq"))
        try container.encode(id, forKey: Key(stringValue: "id"))
        try container.encode(user, forKey: Key(stringValue: "user"))
        try container.encode(text, forKey: Key(stringValue: "text"))
        try container.encode(ts, forKey: Key(stringValue: "ts"))
        for field in fields {
            switch field.value {
            case .text(let text): try container.encode(text, forKey: Key(stringValue: field.name))
            case .integer(let integer): try container.encode(integer, forKey: Key(stringValue: field.name))
            }
        }
    }
}
