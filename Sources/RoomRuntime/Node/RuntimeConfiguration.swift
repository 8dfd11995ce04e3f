public import Foundation

/// How a node's runtime behaves: where it stores rooms, how many shards it runs, when rooms
/// hibernate, and which kinds of room it serves.
public struct RuntimeConfiguration: Sendable {
    /// The data directory (the node directory and every room's file).
    public var dataDirectory: URL
    /// The kinds this node serves, by name.
    public var kinds: [String: RoomKind]
    /// The number of shard threads (default: one per active processor).
    public var shardCount: Int = ProcessInfo.processInfo.activeProcessorCount
    /// How long a room stays in memory without an event before it hibernates.
    public var idleTimeout: Duration = .seconds(30)
    /// The most rooms in memory at once; beyond it the least recently used hibernates.
    public var maxActiveRooms: Int = 10_000
    /// The most room databases open at once. Each holds 3 file descriptors (WAL mode), so keep
    /// `3 × maxOpenDatabases` well under the process's descriptor limit, which sockets share.
    public var maxOpenDatabases: Int = 2_000
    /// The most databases of hibernated rooms kept open, so that waking one of them skips opening
    /// its file (see `WarmDatabases`); 0 closes every file at hibernation. They count against
    /// `maxOpenDatabases` and give way to rooms that need a file.
    public var warmDatabases: Int = 64
    /// How long a hibernated room's database stays open at most, waiting for the room to wake.
    public var warmTimeout: Duration = .seconds(60)
    /// The page cache of each open room database, in KiB (`PRAGMA cache_size`). With
    /// `maxOpenDatabases` it bounds what SQLite's caches can take: 2,000 × 256 KiB, 500 MiB, at
    /// the defaults (SQLite's own default would be 2 MiB a file).
    public var roomCacheKiB: Int = RoomStorage.defaultCacheKiB
    /// The durability of commits (`PRAGMA synchronous`).
    public var synchronous: SynchronousMode = .normal
    /// The most turns that share one commit when events queue up.
    public var groupCommitLimit: Int = 128
    /// How often buffered room activity is written to the node directory.
    public var directoryFlushInterval: Duration = .seconds(1)
    /// The most events one room's mailbox holds. Beyond it, HTTP requests to the room are refused
    /// with `503 room_overloaded`, and connections stop being read (TCP backpressure) until it
    /// drains.
    public var maxQueuedEvents: Int = 1_000
    /// The most frames of one connection queued or running in its room and not yet answered;
    /// beyond it the connection is not read until its room catches up.
    public var maxFramesInFlight: Int = 64
    /// How long a room whose file cannot be opened is refused before the next attempt; doubled
    /// after each failed attempt, up to 5 minutes.
    public var quarantineBackoff: Duration = .seconds(1)
    /// The outside services the node's rooms may use (``RoomContext/services``).
    public var services = RoomServices()
    /// In a cluster, who serves which room (nil for a node that runs alone): asked before every
    /// activation.
    @_spi(Node) public var owners: (any RoomOwners)?
    /// In a cluster, how the events of rooms other nodes own reach them (nil: such a room's
    /// events are refused with `room_unavailable`, naming the owner).
    @_spi(Node) public var forwarder: (any RoomForwarder)?
    /// In a cluster, where the directory is copied for every node to see (``DirectoryMirror``).
    @_spi(Node) public var directoryMirror: (any DirectoryMirror)?
    /// In a cluster, this node's ID: its lock and its directory go under `<data>/nodes/<nodeID>/`,
    /// and the room files under `<data>/rooms/` are shared with the other nodes. Nil for a node
    /// that runs alone (its lock and directory at the data directory's top).
    @_spi(Node) public var nodeID: String?

    public init(dataDirectory: URL, kinds: [RoomKind]) {
        self.dataDirectory = dataDirectory
        self.kinds = Dictionary(kinds.map { ($0.name, $0) }, uniquingKeysWith: { _, last in last })
    }

    /// The cap on rooms in memory: each live room holds one open database.
    var activeRoomCapacity: Int { max(1, min(maxActiveRooms, maxOpenDatabases)) }

    /// How often the runtime looks for idle rooms.
    var sweepInterval: Duration {
        min(max(idleTimeout / 4, .milliseconds(5)), .seconds(1))
    }

    /// How often rooms past their kind's TTL are looked for; nil when no kind has a TTL.
    var expiryInterval: Duration? {
        guard let shortest = kinds.values.compactMap(\.ttl).min() else { return nil }
        return min(max(shortest / 4, .milliseconds(50)), .seconds(60))
    }

    /// Checks the values that have limits.
    public func validate() throws(ConfigurationError) {
        guard shardCount >= 1, shardCount <= 1024 else {
            throw ConfigurationError(key: "runtime.shards", "must be from 1 to 1024")
        }
        guard idleTimeout > .zero else {
            throw ConfigurationError(key: "runtime.idleTimeoutSeconds", "must be positive")
        }
        guard maxActiveRooms >= 1 else {
            throw ConfigurationError(key: "runtime.maxActiveRooms", "must be at least 1")
        }
        guard warmTimeout > .zero else {
            throw ConfigurationError(key: "storage.warmSeconds", "must be positive")
        }
        guard warmDatabases >= 0 else {
            throw ConfigurationError(key: "storage.warmDatabases", "must be 0 or more")
        }
        guard maxOpenDatabases >= 1 else {
            throw ConfigurationError(key: "storage.maxOpenDatabases", "must be at least 1")
        }
        guard groupCommitLimit >= 1 else {
            throw ConfigurationError(key: "runtime.groupCommitLimit", "must be at least 1")
        }
        guard maxQueuedEvents >= 1 else {
            throw ConfigurationError(key: "runtime.maxQueuedEvents", "must be at least 1")
        }
        guard maxFramesInFlight >= 1 else {
            throw ConfigurationError(key: "runtime.maxFramesInFlight", "must be at least 1")
        }
        guard quarantineBackoff > .zero else {
            throw ConfigurationError(key: "runtime.quarantineBackoff", "must be positive")
        }
        guard !kinds.isEmpty else {
            throw ConfigurationError(key: "kinds", "configure at least one kind")
        }
        if let nodeID, !Self.isValidNodeID(nodeID) {
            throw ConfigurationError(key: "cluster.nodeID", "must be 1 to 64 letters, digits, '-', '_' or '.'")
        }
    }

    /// Whether `id` can be a node's ID: it names a folder (`nodes/<id>`), so 1 to 64 letters,
    /// digits, `-`, `_` and `.`, never `.` or `..` alone.
    @_spi(Node)
    public static func isValidNodeID(_ id: String) -> Bool {
        let allowed = id.utf8.allSatisfy { byte in
            (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
                || byte == 0x2D || byte == 0x5F || byte == 0x2E
        }
        return (1...64).contains(id.utf8.count) && allowed && id != "." && id != ".."
    }
}
