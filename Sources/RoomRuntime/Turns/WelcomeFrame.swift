/// The first frame every connection receives: `{"type": "welcome", "kind", "room", "user",
/// "lastSeq", "connection"}`.
struct WelcomeFrame: Encodable {
    let type = "welcome"
    let kind: String
    let room: String
    let user: String
    let lastSeq: Int64
    let connection: RoomConnection.ID
}
