/// A message waiting for its `deliverAt`, as `GET /rooms/{kind}/{id}/scheduled` lists it.
public struct ScheduledMessage: Codable, Sendable, Equatable {
    /// The sender's id for the message (or one the server chose); its `message` frame carries it.
    public let id: String
    /// The sender.
    public let user: String
    /// The text.
    public let text: String
    /// When the message is delivered, in milliseconds since 1970.
    public let deliverAt: Int64
}
