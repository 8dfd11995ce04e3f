/// A room in the user's inbox (an `/inbox/ws` client): a members or direct room they belong to.
public struct InboxRoom: Sendable, Hashable {
    /// The room's kind.
    public var kind: String
    /// The room's id.
    public var id: String
    /// The room's last `seq`.
    public var lastSeq: Int
    /// The last `seq` the user read.
    public var readSeq: Int
    /// The messages after `readSeq` the user did not send.
    public var unread: Int
    /// The room's last message (its text cut to 200 bytes), if it has one.
    public var last: Message?
    /// When the room last changed for the user, in milliseconds since 1970.
    public var updatedAt: Int
    /// The room as the server sent it, every field included.
    public var fields: [String: JSONValue]

    /// `kind/id`: the key of ``RoomClient/inbox``.
    public var key: String { "\(kind)/\(id)" }

    init?(_ value: JSONValue) {
        guard let fields = value.objectValue, let kind = fields["kind"]?.stringValue,
            let id = fields["id"]?.stringValue
        else { return nil }
        self.kind = kind
        self.id = id
        self.lastSeq = fields["lastSeq"]?.intValue ?? 0
        self.readSeq = fields["readSeq"]?.intValue ?? 0
        self.unread = fields["unread"]?.intValue ?? 0
        self.last = fields["last"].flatMap(Message.init)
        self.updatedAt = fields["updatedAt"]?.intValue ?? 0
        self.fields = fields
    }
}
