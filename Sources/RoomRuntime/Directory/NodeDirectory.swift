public import Foundation
import GRDB
import Synchronization

/// The node's index of every room it ever created, in `<data>/directory.sqlite`.
///
/// A room is registered, durably, before its file is created, so the directory never misses a
/// room that has a file. Activity (last active time, state, last sequence number) changes far more
/// often than rooms are created: it is buffered in memory and written in one transaction per
/// ``flush()``, which the runtime calls every second and at shutdown.
public final class NodeDirectory: Sendable {
    private let database: DatabaseQueue
    private let pending = Mutex<[RoomAddress: Activity]>([:])

    struct Activity: Sendable {
        var lastActiveAt: Int64
        var isActive: Bool
        var lastSequence: Int64?
    }

    /// Opens (creating it if needed) the directory at `file`.
    public init(file: URL, synchronous: SynchronousMode) throws {
        try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
        var configuration = Configuration()
        configuration.label = "directory"
        configuration.busyMode = .timeout(5)
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA journal_mode = WAL")
            try db.execute(sql: "PRAGMA synchronous = \(synchronous.pragma)")
        }
        database = try DatabaseQueue(path: file.path, configuration: configuration)
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1", foreignKeyChecks: .immediate) { db in
            try db.execute(
                sql: """
                    CREATE TABLE rooms (
                        kind TEXT NOT NULL,
                        id TEXT NOT NULL,
                        file TEXT NOT NULL,
                        created_at INTEGER NOT NULL,
                        last_active_at INTEGER NOT NULL,
                        state TEXT NOT NULL,
                        last_seq INTEGER NOT NULL DEFAULT 0,
                        PRIMARY KEY (kind, id)
                    ) STRICT, WITHOUT ROWID
                    """)
        }
        try migrator.migrate(database)
    }

    /// Records that `address` exists with its file at `file`, unless already recorded.
    /// Synchronous and durable: called before the room's file is created.
    public func register(_ address: RoomAddress, file: String, at time: Int64) throws {
        try database.write { db in
            try db.execute(
                sql: """
                    INSERT INTO rooms (kind, id, file, created_at, last_active_at, state)
                    VALUES (?, ?, ?, ?, ?, 'active')
                    ON CONFLICT (kind, id) DO NOTHING
                    """,
                arguments: [address.kind, address.id, file, time, time])
        }
    }

    /// Notes that `address` became active or hibernated at `time`; written at the next ``flush()``.
    func noteActivity(_ address: RoomAddress, active: Bool, lastSequence: Int64?, at time: Int64) {
        pending.withLock { pending in
            var activity = pending[address] ?? Activity(lastActiveAt: time, isActive: active)
            activity.lastActiveAt = max(activity.lastActiveAt, time)
            activity.isActive = active
            if let lastSequence { activity.lastSequence = lastSequence }
            pending[address] = activity
        }
    }

    /// Writes the buffered activity in one transaction.
    public func flush() throws {
        let batch = pending.withLock { pending in
            defer { pending.removeAll(keepingCapacity: true) }
            return pending
        }
        guard !batch.isEmpty else { return }
        do {
            try database.write { db in
                let statement = try db.cachedStatement(
                    sql: """
                        UPDATE rooms SET last_active_at = max(last_active_at, ?), state = ?,
                            last_seq = coalesce(?, last_seq)
                        WHERE kind = ? AND id = ?
                        """)
                for (address, activity) in batch {
                    try statement.execute(arguments: [
                        activity.lastActiveAt, activity.isActive ? "active" : "hibernated", activity.lastSequence,
                        address.kind, address.id,
                    ])
                }
            }
        } catch {
            // Put the batch back (newer notes win) so that the next flush retries it.
            pending.withLock { pending in
                pending.merge(batch) { newer, _ in newer }
            }
            throw error
        }
    }

    /// Marks every room hibernated: at start-up, no room of this node is active, whatever the
    /// directory said when the previous process stopped.
    public func markAllHibernated() throws {
        try database.write { db in
            try db.execute(sql: "UPDATE rooms SET state = 'hibernated' WHERE state <> 'hibernated'")
        }
    }

    /// The entry for `address`, if the room was ever created.
    public func entry(for address: RoomAddress) throws -> DirectoryEntry? {
        try database.read { db in
            try Row.fetchOne(
                db, sql: "SELECT * FROM rooms WHERE kind = ? AND id = ?", arguments: [address.kind, address.id]
            ).map(Self.entry(from:))
        }
    }

    /// The number of rooms of `kind` (every kind when nil).
    public func count(kind: String? = nil) throws -> Int {
        try database.read { db in
            if let kind {
                return try Int.fetchOne(db, sql: "SELECT count(*) FROM rooms WHERE kind = ?", arguments: [kind]) ?? 0
            }
            return try Int.fetchOne(db, sql: "SELECT count(*) FROM rooms") ?? 0
        }
    }

    /// Closes the database file.
    public func close() throws {
        try database.close()
    }

    private static func entry(from row: Row) throws -> DirectoryEntry {
        DirectoryEntry(
            address: try RoomAddress(kind: row["kind"], id: row["id"]),
            file: row["file"],
            createdAt: row["created_at"],
            lastActiveAt: row["last_active_at"],
            isActive: (row["state"] as String) == "active",
            lastSequence: row["last_seq"])
    }
}
