/// `{"type": "presence", "event", ...}`, to everyone in the room:
/// - `join` when a user's first connection opens and `leave` when their last one closes, with
///   `user`, `connections` (the room's open connections) and `users` (users online);
/// - `count`, with `users` only, instead of those while more users than the kind's
///   `presenceLimit` are online, at most once a second;
/// - `sync`, with `present` and `users`, when the room goes back from counts to joins and leaves.
struct PresenceFrame: Encodable {
    enum Event: String, Encodable {
        case join
        case leave
        case count
        case sync
    }

    let type = "presence"
    let event: Event
    var user: String? = nil
    var connections: Int? = nil
    let users: Int
    var present: [PresentUser]? = nil
}

/// One user online: `{"user", "connections"}` (their open connections to the room).
struct PresentUser: Encodable {
    let user: String
    let connections: Int
}
