/// The answer to `POST /messages`: `{"seq", "id", "duplicate"?}`, or for a scheduled message
/// `{"id", "scheduled": true, "deliverAt", "duplicate"?}` (status 202).
struct PostResult: Encodable {
    let seq: Int64?
    let id: String
    let duplicate: Bool?
    let scheduled: Bool?
    let deliverAt: Int64?

    init(seq: Int64, id: String, duplicate: Bool) {
        self.seq = seq
        self.id = id
        self.duplicate = duplicate ? true : nil
        scheduled = nil
        deliverAt = nil
    }

    init(scheduled message: ScheduledMessage, duplicate: Bool) {
        seq = nil
        id = message.id
        self.duplicate = duplicate ? true : nil
        scheduled = true
        deliverAt = message.deliverAt
    }
}
