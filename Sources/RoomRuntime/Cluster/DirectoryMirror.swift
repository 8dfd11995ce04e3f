/// In a cluster, where the node's directory is copied so that every node sees every room: the
/// runtime hands it what changed since the last flush (rooms created, activity, next alarms,
/// deletions) about once a second, and retries a batch that failed. The control plane keeps it in
/// PostgreSQL (`rooms_directory`), which `GET /rooms` lists and whose due alarms of rooms no live
/// node owns another node runs (see docs/CLUSTER.md). Kinds' `ttl` expires rooms from it.
@_spi(Node)
public protocol DirectoryMirror: Sendable {
    /// Records `changes` (one per room, the newest state of each).
    func record(_ changes: [DirectoryChange]) async throws

    /// Rooms of `kind` last active before `time` (milliseconds since 1970), with no schedule, that
    /// no live node other than this one owns, oldest first: what this node may expire. A room
    /// another node owns is left to that node, which knows whether it is in use.
    func untouched(kind: String, since time: Int64, limit: Int) async throws -> [RoomAddress]
}

/// What changed about one room since the last copy to the ``DirectoryMirror``.
@_spi(Node)
public struct DirectoryChange: Sendable, Equatable {
    public var address: RoomAddress
    /// When the room was created, if it was created since (milliseconds since 1970).
    public var createdAt: Int64?
    /// When it was last active (milliseconds since 1970; 0 when unknown).
    public var lastActiveAt: Int64 = 0
    /// Whether it is in memory, when that changed.
    public var isActive: Bool?
    /// Its last committed sequence number, when known.
    public var lastSequence: Int64?
    /// Its next alarm, when that changed: `.some(nil)` when it has none any more.
    public var nextAlarm: Int64??
    /// The room was deleted.
    public var removed = false

    public init(address: RoomAddress) {
        self.address = address
    }

    /// `newer` noted after this one: the later facts win, the others are kept.
    func merged(with newer: DirectoryChange) -> DirectoryChange {
        var merged = newer
        merged.createdAt = newer.createdAt ?? createdAt
        merged.lastActiveAt = max(lastActiveAt, newer.lastActiveAt)
        merged.isActive = newer.isActive ?? isActive
        merged.lastSequence = newer.lastSequence ?? lastSequence
        if newer.nextAlarm == nil { merged.nextAlarm = nextAlarm }
        return merged
    }
}
