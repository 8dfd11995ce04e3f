/// `{"type": "inbox", "room": {...}}`: to a user's inbox connections when one of their rooms
/// changed; `{"type": "inbox", "room": {"kind", "id", "removed": true}}` when they left it.
struct InboxFrame: Encodable {
    struct Removed: Encodable {
        let kind: String
        let id: String
        let removed = true
    }

    let type = "inbox"
    let room: Room

    enum Room: Encodable {
        case entry(InboxEntry)
        case removed(Removed)

        func encode(to encoder: any Encoder) throws {
            switch self {
            case .entry(let entry): try entry.encode(to: encoder)
            case .removed(let removed): try removed.encode(to: encoder)
            }
        }
    }
}
