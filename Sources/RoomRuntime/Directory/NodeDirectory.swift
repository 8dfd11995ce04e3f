public import Foundation
import GRDB
import Synchronization

/// The node's index of every room it ever created, in `<data>/directory.sqlite`.
///
/// A room is registered, durably, before its file is created, so the directory never misses a
/// room that has a file. Activity (last active time, state, last sequence number) changes far more
/// often than rooms are created: it is buffered in memory and written in one transaction per
/// ``flush()``, which the runtime calls every second and at shutdown.
@_spi(Node)
public final class NodeDirectory: Sendable {
    private let database: DatabaseQueue
    private let pending = Mutex<[RoomAddress: Activity]>([:])
    /// In a cluster, what changed since the last copy to the cluster's directory (nil otherwise).
    private let mirrored: Mutex<[RoomAddress: DirectoryChange]>?

    struct Activity: Sendable {
        var lastActiveAt: Int64
        var isActive: Bool?
        var lastSequence: Int64?
        /// `.some(nil)` clears the alarm; nil leaves it.
        var nextAlarm: Int64??
    }

    /// Opens (creating it if needed) the directory at `file`; `mirrored`: what changes is also
    /// kept for ``takeMirrored()`` (in a cluster).
    public init(file: URL, synchronous: SynchronousMode, mirrored: Bool = false) throws {
        self.mirrored = mirrored ? Mutex([:]) : nil
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
        migrator.registerMigration("v2-alarms", foreignKeyChecks: .immediate) { db in
            try db.execute(
                sql: """
                    ALTER TABLE rooms ADD COLUMN next_alarm INTEGER;
                    CREATE INDEX rooms_by_next_alarm ON rooms (next_alarm) WHERE next_alarm IS NOT NULL;
                    """)
        }
        try migrator.migrate(database)
    }

    /// Records, durably, that `address` has a schedule due no later than `due`. Written before
    /// the room commits the schedule, so that the directory is never later than the room.
    func setNextAlarm(_ address: RoomAddress, due: Int64?) throws {
        try database.write { db in
            try db.execute(
                sql: "UPDATE rooms SET next_alarm = ? WHERE kind = ? AND id = ?",
                arguments: [due, address.kind, address.id])
        }
        pending.withLock { pending in
            pending[address]?.nextAlarm = nil
        }
        mirror(address) { $0.nextAlarm = .some(due) }
    }

    /// Notes a later (or no) next alarm for `address`; written at the next ``flush()``.
    func noteNextAlarm(_ address: RoomAddress, due: Int64?) {
        pending.withLock { pending in
            var activity = pending[address] ?? Activity(lastActiveAt: 0, isActive: nil)
            activity.nextAlarm = .some(due)
            pending[address] = activity
        }
        mirror(address) { $0.nextAlarm = .some(due) }
    }

    /// Every room with a schedule, and when it is due: what the node's timer starts from.
    func pendingAlarms() throws -> [(RoomAddress, Int64)] {
        try database.read { db in
            try Row.fetchAll(db, sql: "SELECT kind, id, next_alarm FROM rooms WHERE next_alarm IS NOT NULL").compactMap {
                row in
                guard let address = try? RoomAddress(kind: row["kind"], id: row["id"]) else { return nil }
                return (address, row["next_alarm"])
            }
        }
    }

    /// Records that `address` exists with its file at `file` and its next alarm `nextAlarm`,
    /// unless already recorded. Synchronous and durable: called before the room's file is created.
    public func register(_ address: RoomAddress, file: String, at time: Int64, nextAlarm: Int64? = nil) throws {
        try database.write { db in
            try db.execute(
                sql: """
                    INSERT INTO rooms (kind, id, file, created_at, last_active_at, state, next_alarm)
                    VALUES (?, ?, ?, ?, ?, 'active', ?)
                    ON CONFLICT (kind, id) DO UPDATE SET next_alarm = excluded.next_alarm
                    """,
                arguments: [address.kind, address.id, file, time, time, nextAlarm])
        }
        mirror(address) { change in
            change.createdAt = time
            change.lastActiveAt = max(change.lastActiveAt, time)
            change.isActive = true
            change.nextAlarm = .some(nextAlarm)
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
        mirror(address) { change in
            change.lastActiveAt = max(change.lastActiveAt, time)
            change.isActive = active
            if let lastSequence { change.lastSequence = lastSequence }
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
                        UPDATE rooms SET last_active_at = max(last_active_at, ?), state = coalesce(?, state),
                            last_seq = coalesce(?, last_seq),
                            next_alarm = CASE WHEN ? THEN ? ELSE next_alarm END
                        WHERE kind = ? AND id = ?
                        """)
                for (address, activity) in batch {
                    try statement.execute(arguments: [
                        activity.lastActiveAt, activity.isActive.map { $0 ? "active" : "hibernated" },
                        activity.lastSequence, activity.nextAlarm != nil, activity.nextAlarm ?? nil,
                        address.kind, address.id,
                    ])
                }
            }
        } catch {
            // Put the batch back (newer notes win) so that the next flush retries it.
            pending.withLock { pending in
                pending.merge(batch) { newer, older in
                var merged = newer
                if merged.nextAlarm == nil { merged.nextAlarm = older.nextAlarm }
                if merged.lastSequence == nil { merged.lastSequence = older.lastSequence }
                if merged.isActive == nil { merged.isActive = older.isActive }
                merged.lastActiveAt = max(merged.lastActiveAt, older.lastActiveAt)
                return merged
            }
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

    /// Forgets `address` (the room was deleted).
    func remove(_ address: RoomAddress) throws {
        pending.withLock { _ = $0.removeValue(forKey: address) }
        mirror(address) { change in
            change = DirectoryChange(address: address)
            change.removed = true
        }
        try database.write { db in
            try db.execute(sql: "DELETE FROM rooms WHERE kind = ? AND id = ?", arguments: [address.kind, address.id])
        }
    }

    // MARK: - The cluster's copy

    private func mirror(_ address: RoomAddress, _ update: (inout DirectoryChange) -> Void) {
        mirrored?.withLock { changes in
            var change = changes[address] ?? DirectoryChange(address: address)
            if change.removed { change = DirectoryChange(address: address) }
            update(&change)
            changes[address] = change
        }
    }

    /// What changed since the last call, for the cluster's directory.
    func takeMirrored() -> [DirectoryChange] {
        mirrored?.withLock { changes in
            defer { changes.removeAll(keepingCapacity: true) }
            return Array(changes.values)
        } ?? []
    }

    /// Puts back `changes` that could not be copied (newer notes win).
    func restoreMirrored(_ changes: [DirectoryChange]) {
        mirrored?.withLock { pending in
            for change in changes {
                pending[change.address] = pending[change.address].map { change.merged(with: $0) } ?? change
            }
        }
    }

    /// Whether activity of `address` waits for the next flush.
    func hasPendingActivity(_ address: RoomAddress) -> Bool {
        pending.withLock { $0[address] != nil }
    }

    /// Rooms of `kind` last active before `time` (milliseconds since 1970) and without a pending
    /// schedule, oldest first.
    func untouched(kind: String, since time: Int64, limit: Int) throws -> [RoomAddress] {
        try database.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT kind, id FROM rooms WHERE kind = ? AND last_active_at < ? AND next_alarm IS NULL
                    ORDER BY last_active_at LIMIT ?
                    """,
                arguments: [kind, time, limit]
            ).compactMap { try? RoomAddress(kind: $0["kind"], id: $0["id"]) }
        }
    }

    /// A page of rooms in (kind, id) order: those of `kind` (every kind when nil) whose id starts
    /// with `prefix`, after the room `after`, at most `limit`.
    public func list(kind: String?, prefix: String, after: RoomAddress?, limit: Int) throws -> [DirectoryEntry] {
        var conditions: [String] = []
        var arguments: [any DatabaseValueConvertible] = []
        if let kind {
            conditions.append("kind = ?")
            arguments.append(kind)
        }
        if !prefix.isEmpty {
            // A range the primary key serves, then the exact test. The upper bound is the prefix
            // followed by more U+10FFFF (the largest UTF-8 sequence) than an id has room for, so
            // that no id starting with the prefix sorts above it, not even one continuing with
            // U+10FFFF.
            let upperBound = prefix + String(repeating: "\u{10FFFF}", count: RoomAddress.maxIDBytes / 4)
            conditions.append("id >= ? AND id < ? AND substr(id, 1, ?) = ?")
            arguments += [prefix, upperBound, prefix.unicodeScalars.count, prefix]
        }
        if let after {
            conditions.append("(kind, id) > (?, ?)")
            arguments += [after.kind, after.id]
        }
        let filter = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
        arguments.append(limit)
        return try database.read { db in
            try Row.fetchAll(
                db, sql: "SELECT * FROM rooms \(filter) ORDER BY kind, id LIMIT ?",
                arguments: StatementArguments(arguments)
            ).map(Self.entry(from:))
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
