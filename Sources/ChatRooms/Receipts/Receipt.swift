/// One user's entry in `GET /rooms/{kind}/{id}/receipts`: `{"user", "readSeq", "unread"}`.
public struct Receipt: Codable, Sendable, Equatable {
    /// The user.
    public let user: String
    /// The last `seq` they read (0 when they never read).
    public let readSeq: Int64
    /// The messages after `readSeq` they did not send themselves.
    public let unread: Int
}
