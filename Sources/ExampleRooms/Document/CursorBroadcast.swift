/// `{"type": "cursor", "user", "anchor", "head", "version"}`: someone's selection, moved to the
/// room's current version; or `{"type": "cursor.leave", "user"}` when their last connection closed.
struct CursorBroadcast: Encodable {
    var type = "cursor"
    let user: String
    var anchor: Int?
    var head: Int?
    var version: Int64?

    static func leave(_ user: String) -> CursorBroadcast {
        CursorBroadcast(type: "cursor.leave", user: user)
    }
}
