/// `{"type": "receipt", "user", "seq"}`: to everyone in the room when `user` read up to `seq`
/// (per user at most once per the kind's `receiptIntervalMilliseconds`, the latest).
struct ReceiptFrame: Encodable {
    let type = "receipt"
    let user: String
    let seq: Int64
}
