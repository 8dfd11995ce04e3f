/// `{"type": "op.ack", "id", "version"}`: to the sender, once its operation is stored as `version`.
struct OperationAck: Encodable {
    let type = "op.ack"
    let id: String
    let version: Int64
}
