/// `{"type": "ack", "id", "seq"}`: to the sender, once its message is committed.
/// `duplicate` is true (and present) when the sender had already sent a message with this id.
struct AckFrame: Encodable {
    let type = "ack"
    let id: String
    let seq: Int64
    let duplicate: Bool?
}
