/// What `GET /rooms/{kind}/{id}` reports about a room, read without waking it.
public struct RoomInfo: Sendable, Equatable, Codable {
    /// The room's kind.
    public let kind: String
    /// The room's id.
    public let id: String
    /// Whether the room is in memory now (false when hibernated or never created).
    public let active: Bool
    /// The number of open connections.
    public let connections: Int
    /// The room's last committed sequence number (0 for a room that never allocated one).
    public let lastSeq: Int64
    /// Whether the room was ever created (its file exists).
    public let exists: Bool
}
