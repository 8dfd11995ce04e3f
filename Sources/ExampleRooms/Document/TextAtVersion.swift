/// `GET /rooms/{kind}/{id}/text`: `{"version", "text"}`.
struct TextAtVersion: Encodable {
    let version: Int64
    let text: String
}
