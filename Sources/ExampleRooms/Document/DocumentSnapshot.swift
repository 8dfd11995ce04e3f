/// One stored version of the text, as `GET /rooms/{kind}/{id}/versions` lists it.
struct DocumentSnapshot: Encodable {
    let version: Int64
    /// When it was stored, in milliseconds since 1970.
    let ts: Int64
    /// Its length in UTF-16 code units.
    let length: Int
}
