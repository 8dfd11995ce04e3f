/// The frame that tells a room a membership changed:
/// `{"type": "member", "event": "added" | "removed" | "role", "user", "role"}`.
struct MemberFrame: Encodable {
    enum Event: String, Encodable {
        case added, removed, role
    }

    let type = "member"
    let event: Event
    let user: String
    /// The member's role: the new one, or for `removed` the one they had.
    let role: MemberRole
}
