/// The body of an offline push: `{"user", "kind", "room", "seq", "from", "text", "ts"}` for the
/// latest message `user` has not read, then `count` (the unread messages this push covers, all
/// from others) and `messages` (the latest of them, up to ``ChatRoom/maxPushMessages``, oldest
/// first, each `{"seq", "from", "text", "ts"}`).
struct PushNotification: Encodable {
    struct Message: Encodable {
        let seq: Int64
        let from: String
        let text: String
        let ts: Int64
    }

    let user: String
    let kind: String
    let room: String
    let seq: Int64
    let from: String
    let text: String
    let ts: Int64
    let count: Int
    let messages: [Message]
}
