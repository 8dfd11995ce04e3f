/// The first frame of every connection: who the server says you are and where the room is.
public struct Welcome: Sendable, Hashable {
    /// The room's kind (`inbox` for an inbox).
    public var kind: String
    /// The room's id.
    public var room: String
    /// The connection's user.
    public var user: String
    /// The room's last `seq` when the connection joined.
    public var lastSeq: Int
    /// The room's epoch: a room deleted and created again has a new one.
    public var epoch: String
    /// The messages after the client's `after` follow this frame.
    public var recovered: Bool
    /// Who is online (chat kinds).
    public var present: [Present]
    /// The whole frame, the room class's own fields (`readSeq`, `unread`, `online`, ...) included.
    public var fields: [String: JSONValue]

    init(_ frame: JSONValue) {
        let fields = frame.objectValue ?? [:]
        self.kind = fields["kind"]?.stringValue ?? ""
        self.room = fields["room"]?.stringValue ?? ""
        self.user = fields["user"]?.stringValue ?? ""
        self.lastSeq = fields["lastSeq"]?.intValue ?? 0
        self.epoch = fields["epoch"]?.stringValue ?? ""
        self.recovered = fields["recovered"]?.boolValue ?? false
        self.present = fields["present"]?.arrayValue?.compactMap(Present.init) ?? []
        self.fields = fields
    }
}
