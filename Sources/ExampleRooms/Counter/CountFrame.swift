/// `{"type": "count", "value", "seq", "user"?}`: the count after change `seq` (by `user`; none for
/// a scheduled reset or on connecting).
struct CountFrame: Encodable {
    let type = "count"
    let value: Int64
    let seq: Int64
    let user: String?
}
