/// `{"type": "typing", "user"}`: to the room's other connections when a user types. Never stored;
/// at most one per user per ``ChatRoom/typingInterval``. Clients show it for about 5 seconds.
struct TypingFrame: Encodable {
    let type = "typing"
    let user: String
}
