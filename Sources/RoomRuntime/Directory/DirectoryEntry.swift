/// What the node directory records about one room.
@_spi(Node)
public struct DirectoryEntry: Sendable, Equatable {
    /// The room.
    public let address: RoomAddress
    /// The room's file, relative to the data directory.
    public let file: String
    /// When the room was created, in milliseconds since 1970.
    public let createdAt: Int64
    /// When the room was last active, in milliseconds since 1970 (recorded at hibernation and by
    /// the periodic flush, so it may lag by a flush interval).
    public let lastActiveAt: Int64
    /// Whether the room was active when last recorded.
    public let isActive: Bool
    /// The room's last committed sequence number when last recorded.
    public let lastSequence: Int64

    public init(
        address: RoomAddress, file: String, createdAt: Int64, lastActiveAt: Int64, isActive: Bool, lastSequence: Int64
    ) {
        self.address = address
        self.file = file
        self.createdAt = createdAt
        self.lastActiveAt = lastActiveAt
        self.isActive = isActive
        self.lastSequence = lastSequence
    }
}
