/// `GET /inbox`: `{"rooms": [...], "cursor"}`, most recent first; `cursor` (null on the last
/// page) asks for the next page.
struct InboxPage: Encodable {
    let rooms: [InboxEntry]
    let cursor: String?

    private enum CodingKeys: String, CodingKey { case rooms, cursor }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(rooms, forKey: .rooms)
        try container.encode(cursor, forKey: .cursor)
    }
}
