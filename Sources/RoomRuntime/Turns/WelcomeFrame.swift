/// The first frame every connection receives: `{"type": "welcome", "kind", "room", "user",
/// "lastSeq", "connection", "epoch", "recovered"}`.
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
}
