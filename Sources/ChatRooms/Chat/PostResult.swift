/// The answer to `POST /messages`: `{"seq", "id", "duplicate"?}`.
struct PostResult: Encodable {
    let seq: Int64
    let id: String
    let duplicate: Bool?
}
