/// The answer to `GET /rooms/{kind}/{id}/state` in a counter room.
struct CounterState: Encodable {
    /// The count.
    let value: Int64
    /// The last change.
    let seq: Int64
    /// The last change the latest snapshot includes.
    let snapshotSeq: Int64
    /// When the pending reset fires (ms since 1970), if one is set.
    let resetAt: Int64?
}
