/// The `ack` of an `ai.prompt`: `{"type": "ack", "id", "seq", "duplicate"?}`, as for a `send`.
struct PromptAck: Encodable {
    let type = "ack"
    let id: String
    let seq: Int64
    let duplicate: Bool?
}
