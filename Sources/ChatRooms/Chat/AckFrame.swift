import RoomRuntime

/// `{"type": "ack", "id", "seq"}`: to the sender, once its message is committed.
/// `duplicate` is true (and present) when the sender had already sent a message with this id.
/// A scheduled send is acknowledged at once with `{"type": "ack", "id", "scheduled": true, "deliverAt"}`
/// and no `seq`: the message gets its sequence number when it is delivered.
struct AckFrame {
    let id: String
    let seq: Int64?
    let duplicate: Bool?
    let scheduled: Bool?
    let deliverAt: Int64?

    init(id: String, seq: Int64, duplicate: Bool) {
        self.id = id
        self.seq = seq
        self.duplicate = duplicate ? true : nil
        scheduled = nil
        deliverAt = nil
    }

    init(scheduled message: ScheduledMessage, duplicate: Bool) {
        id = message.id
        seq = nil
        self.duplicate = duplicate ? true : nil
        scheduled = true
        deliverAt = message.deliverAt
    }

    /// The frame, written without `JSONEncoder` (every send is acknowledged).
    var frame: OutboundFrame {
        .jsonObject { object in
            object.string("type", "ack")
            object.string("id", id)
            object.integer("seq", seq)
            object.bool("duplicate", duplicate)
            object.bool("scheduled", scheduled)
            object.integer("deliverAt", deliverAt)
        }
    }
}
