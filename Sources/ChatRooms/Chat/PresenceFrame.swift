/// `{"type": "presence", "event": "join" | "leave", "user", "connections"}`: to everyone in the
/// room when a connection opens or closes; `connections` counts the room's open connections after
/// the change.
struct PresenceFrame: Encodable {
    enum Event: String, Encodable {
        case join
        case leave
    }

    let type = "presence"
    let event: Event
    let user: String
    let connections: Int
}
