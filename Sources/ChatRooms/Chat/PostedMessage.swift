/// The body of `POST /rooms/{kind}/{id}/messages`: `{"user", "text", "id"?}`.
struct PostedMessage: Decodable {
    let user: String
    let text: String
    let id: String?
}
