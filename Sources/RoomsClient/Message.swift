/// A stored chat message, as `message` frames and history carry it.
public struct Message: Sendable, Hashable {
    /// The room's sequence number: 1, 2, 3, ... without gaps.
    public var seq: Int
    /// The sender's id for the message (or the server's, when the sender gave none).
    public var id: String
    /// Who sent it.
    public var user: String
    /// The text.
    public var text: String
    /// When it was stored, in milliseconds since 1970.
    public var ts: Int
    /// Every other field (an AI answer's `stream`, `replyTo` and `status`, ...).
    public var fields: [String: JSONValue]

    /// A message made of its parts.
    public init(seq: Int, id: String, user: String, text: String, ts: Int, fields: [String: JSONValue] = [:]) {
        self.seq = seq
        self.id = id
        self.user = user
        self.text = text
        self.ts = ts
        self.fields = fields
    }

    /// The message in a frame or a history entry, or nil when it is not one.
    init?(_ value: JSONValue) {
        guard var members = value.objectValue, let seq = members["seq"]?.intValue,
            let text = members["text"]?.stringValue
        else { return nil }
        self.seq = seq
        self.id = members["id"]?.stringValue ?? ""
        self.user = members["user"]?.stringValue ?? ""
        self.text = text
        self.ts = members["ts"]?.intValue ?? 0
        for key in ["type", "seq", "id", "user", "text", "ts"] { members[key] = nil }
        self.fields = members
    }
}
