/// The body of `POST /rooms/{kind}/{id}/messages`: `{"user", "text", "id"?, "deliverAt"?}`.
/// With authentication, `user` is ignored: the poster is the token's user.
package struct PostedMessage: Decodable {
    let user: String?
    let text: String
    let id: String?
    /// When to deliver the message, in milliseconds since 1970; absent to deliver it now.
    let deliverAt: Int64?
}
