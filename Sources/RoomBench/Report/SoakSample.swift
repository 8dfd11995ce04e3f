/// One minute (or `--sample-every`) of `rooms bench soak`: the server's resources at its end and
/// the work done during it.
public struct SoakSample: Encodable, Sendable {
    /// Seconds since the soak began, at the end of this interval.
    public var atSeconds: Double
    /// The server's resident memory.
    public var rssBytes: Int?
    /// The server's open file descriptors (sockets, SQLite files, ...).
    public var openDescriptors: Int?
    /// Room databases open (`rooms_open_databases`).
    public var openDatabases: Int?
    /// Memory SQLite holds, page caches mostly (`rooms_sqlite_memory_bytes`).
    public var sqliteMemoryBytes: Int?
    /// Rooms in memory (`rooms_active`).
    public var activeRooms: Int?
    /// Messages acknowledged (chat sends and posts) and AI answers completed in the interval.
    public var acknowledged: Int
    /// Frames delivered to the harness's clients in the interval.
    public var deliveries: Int
    /// Latency p99 of the interval's timed deliveries, in microseconds.
    public var p99Micros: UInt64
    /// Errors in the interval.
    public var errors: Int
}
