/// The first frame every connection receives: `{"type": "welcome", "kind", "room", "user",
/// "lastSeq", "connection", "epoch", "recovered"}`, then the fields the room's class adds
/// (``Room/welcome(for:context:)``).
struct WelcomeFrame: Encodable {
    let type = "welcome"
    let kind: String
    let room: String
    let user: String
    let lastSeq: Int64
    let connection: RoomConnection.ID
    /// The room's epoch: a resume (`?after=SEQ&epoch=E`) replays only within the same epoch.
    let epoch: String
    /// Whether the messages after the client's `after` were replayed right after this frame.
    let recovered: Bool
    /// The fields the room's class adds; the runtime's own win over a field of the same name.
    let roomFields: [String: JSONValue]

    private enum CodingKeys: String, CodingKey, CaseIterable {
        case type, kind, room, user, lastSeq, connection, epoch, recovered
    }

    private struct FieldKey: CodingKey {
        let stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(type, forKey: .type)
        try container.encode(kind, forKey: .kind)
        try container.encode(room, forKey: .room)
        try container.encode(user, forKey: .user)
        try container.encode(lastSeq, forKey: .lastSeq)
        try container.encode(connection, forKey: .connection)
        try container.encode(epoch, forKey: .epoch)
        try container.encode(recovered, forKey: .recovered)
        let reserved = Set(CodingKeys.allCases.map(\.rawValue))
        var fields = encoder.container(keyedBy: FieldKey.self)
        for (name, value) in roomFields.sorted(by: { $0.key < $1.key }) where !reserved.contains(name) {
            try fields.encode(value, forKey: FieldKey(stringValue: name))
        }
    }
}
