/// The answer to `POST /messages` for a scheduled message: `{"id", "scheduled": true, "deliverAt",
/// "duplicate"?}` (status 202). A message stored at once is answered `{"seq", "id", "duplicate"?}`
/// (`ChatRoom.posted`).
struct PostResult: Encodable {
    let id: String
    let duplicate: Bool?
    let scheduled: Bool
    let deliverAt: Int64

    init(scheduled message: ScheduledMessage, duplicate: Bool) {
        id = message.id
        self.duplicate = duplicate ? true : nil
        scheduled = true
        deliverAt = message.deliverAt
    }
}
