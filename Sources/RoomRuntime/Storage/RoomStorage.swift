public import Foundation
public import GRDB
import GRDBSQLite
import SQLiteShim

/// A room's private SQLite database: a key-value store, direct SQL, and the room's sequence.
///
/// Reach it as `context.storage` inside a hook. Calls are synchronous and run on the room's shard,
/// as in Durable Objects: there is nothing to await and no other turn of the room can interleave.
///
/// Writes join the current turn's transaction: they commit together when the turn ends (several
/// turns may share one commit, see ``RoomContext``), and roll back together if the hook throws.
/// Until the commit, only the room itself sees them.
///
/// ```swift
/// try context.storage.execute(
///     "INSERT INTO moves (turn, player) VALUES (?, ?)", arguments: [turn, player])
/// let rows = try context.storage.fetchAll("SELECT * FROM moves ORDER BY turn")
/// let last: Int64? = rows.last?["turn"]
/// ```
///
/// The SQL is GRDB's (`import GRDB` for `Row` subscripts and `Database`). Pass values as
/// `arguments`, never by building SQL text from them: statements are prepared once and cached by
/// their SQL text.
///
/// Tables whose names start with `_rooms_` and `grdb_` belong to the runtime.
public final class RoomStorage {
    /// The room's file; nil for the in-memory storage of an ephemeral room. A room that has not
    /// been created yet (see `RoomPhase`) runs on an in-memory database until its first stored
    /// write, but already has its file's path here.
    public let file: URL?

    private(set) var database: DatabaseQueue
    /// Whether the database is in memory until the room is created (``materialize()``).
    private(set) var isProvisional: Bool
    /// Whether the database is closed: while the room waits in a call (``releaseFile()``), or for good (``close()``).
    private(set) var isClosed = false
    private let configuration: Configuration
    private let openFiles: OpenDatabases?
    /// The room's epoch: a random id fixed when the room's file was created (see `WelcomeFrame`).
    let epoch: String
    /// In a cluster, the owner epoch this node holds the room at (see ``takeOwnership(epoch:)``):
    /// every commit checks that the file still carries it. Nil on a node that runs alone.
    private(set) var ownerEpoch: Int64?
    /// In a cluster, whether this node's lease still holds; asked before every commit.
    private var leaseHolds: (@Sendable () -> Bool)?
    private(set) var committedSequence: Int64
    private(set) var sequence: Int64
    private var sequenceAtTurnStart: Int64 = 0
    private var inTurn = false
    private var transactionOpen = false
    private var savepointOpen = false
    /// Whether the running turn has written (opened its savepoint).
    private(set) var turnWrote = false

    /// The runtime's own schema, applied before the room class's steps.
    static let runtimeMigrations: RoomMigrations = {
        var migrations = RoomMigrations()
        migrations.add("v1") { db in
            try db.execute(
                sql: """
                    CREATE TABLE _rooms_meta (key TEXT PRIMARY KEY NOT NULL, value ANY) STRICT;
                    INSERT INTO _rooms_meta (key, value) VALUES ('sequence', 0);
                    CREATE TABLE _rooms_kv (key TEXT PRIMARY KEY NOT NULL, value BLOB NOT NULL) STRICT;
                    """)
        }
        migrations.add("v2-schedules") { db in
            try db.execute(
                sql: """
                    CREATE TABLE _rooms_schedules (
                        name TEXT PRIMARY KEY NOT NULL,
                        generation INTEGER NOT NULL,
                        due_at INTEGER NOT NULL,
                        interval_ms INTEGER,
                        payload BLOB,
                        failures INTEGER NOT NULL DEFAULT 0,
                        max_retries INTEGER NOT NULL,
                        first_retry_ms INTEGER NOT NULL,
                        created_at INTEGER NOT NULL
                    ) STRICT;
                    CREATE INDEX _rooms_schedules_by_due ON _rooms_schedules (due_at);
                    """)
        }
        migrations.add("v3-members") { db in
            try db.execute(
                sql: """
                    CREATE TABLE _rooms_members (
                        user TEXT PRIMARY KEY NOT NULL,
                        role TEXT NOT NULL,
                        added_at INTEGER NOT NULL
                    ) STRICT;
                    """)
        }
        migrations.add("v4-epoch") { db in
            // The room's epoch: fixed when its file is created, new for a room deleted and created
            // again, so that a client resuming from a `seq` knows the numbers are still the same.
            try db.execute(
                sql: "INSERT OR IGNORE INTO _rooms_meta (key, value) VALUES ('epoch', lower(hex(randomblob(8))))")
        }
        return migrations
    }()

    /// The page cache of a room's connection unless the node says otherwise (`storage.roomCacheKiB`).
    public static let defaultCacheKiB = 256

    /// The size a room's WAL file is cut back to after a checkpoint (`PRAGMA journal_size_limit`).
    static let walSizeLimit = 512 * 1024

    /// Opens the room's database, migrated to `migrations`: the file at `file`, created if it does
    /// not exist, or an in-memory database if `file` is nil (an ephemeral room).
    ///
    /// With `deferringCreation`, a missing file is not created: the database is in memory until
    /// ``materialize()`` writes it to the file (the runtime does that on the room's first commit
    /// that counts, see ``RoomPhase``).
    ///
    /// - Throws: ``StorageError`` when the file cannot be opened or a migration fails.
    init(
        file: URL?, synchronous: SynchronousMode, className: String, migrations: RoomMigrations,
        deferringCreation: Bool = false, openFiles: OpenDatabases? = nil, cacheKiB: Int = RoomStorage.defaultCacheKiB
    ) throws(StorageError) {
        self.file = file
        self.openFiles = openFiles
        var configuration = Configuration()
        configuration.label = "room"
        // The runtime keeps one transaction open across the calls of a turn (and of a group of
        // turns), committing it when the group ends; GRDB checks for the opposite by default.
        configuration.allowsUnsafeTransactions = true
        configuration.busyMode = .timeout(Self.busyTimeout)
        configuration.prepareDatabase { db in
            // The -wal and -shm files outlive the connection (SQLITE_FCNTL_PERSIST_WAL): closing
            // at hibernation still checkpoints, but no longer deletes them, and the next activation
            // opens them instead of creating them again (about a fifth of a wake's system time).
            // A room that is deleted removes them with its file. In memory, this is a no-op.
            var persist: Int32 = 1
            _ = sqlite3_file_control(db.sqliteConnection, "main", SQLITE_FCNTL_PERSIST_WAL, &persist)
            // Nor does closing checkpoint: a hibernation would otherwise copy the WAL into the
            // database and fsync it on the shard thread, between other rooms' turns (the largest
            // cost of a hibernation). The WAL is checkpointed by SQLite's automatic checkpoint,
            // when a commit finds it longer than 1,000 pages; the next open reads the frames
            // written since (WAL recovery), which for a room that wrote little is a few pages.
            _ = rooms_sqlite3_skip_checkpoint_on_close(db.sqliteConnection)
            // Set WAL here rather than with `configuration.journalMode`: GRDB's WAL set-up forces
            // synchronous=NORMAL and writes a probe table whenever the -wal file is absent.
            try db.execute(sql: "PRAGMA journal_mode = WAL")
            try db.execute(sql: "PRAGMA synchronous = \(synchronous.pragma)")
            // SQLite's default page cache is 2 MiB per connection, so a node's memory would be
            // bounded only by maxOpenDatabases × 2 MiB (4 GB at the default), reached slowly as
            // room files grow. A room's hot pages are few (the tail of its log and its indexes).
            try db.execute(sql: "PRAGMA cache_size = -\(cacheKiB)")
            // The WAL file keeps its largest size (up to the 1,000 pages of the automatic
            // checkpoint, about 4 MiB) unless told otherwise: this truncates it at the first
            // commit after a checkpoint, so idle rooms do not hold megabytes of spent WAL each.
            try db.execute(sql: "PRAGMA journal_size_limit = \(Self.walSizeLimit)")
        }
        self.configuration = configuration
        let onDisk = file.map { FileManager.default.fileExists(atPath: $0.path) } ?? false
        isProvisional = file != nil && !onDisk && deferringCreation
        let name = file?.path ?? "the in-memory database of an ephemeral room"
        do {
            if let file, !isProvisional {
                if !onDisk {
                    try FileManager.default.createDirectory(
                        at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
                }
                database = try DatabaseQueue(path: file.path, configuration: configuration)
            } else {
                database = try DatabaseQueue(configuration: configuration)
            }
        } catch {
            throw StorageError(.open, "cannot open \(name)", cause: error)
        }
        do {
            // The steps this file must have had, by name. A file whose stamp lists exactly these
            // is current: a wake then reads one row set and runs no migrator (GRDB's migrator reads
            // its own table under an authorizer, two transactions, on every open otherwise).
            let identifiers =
                Self.runtimeMigrations.steps.map { "_rooms.\($0.name)" } + migrations.steps.map { "\(className).\($0.name)" }
            let stamp = identifiers.joined(separator: "\n")
            if isProvisional || file == nil {
                // A room that does not exist yet starts from the class's template, already current.
                let template = try migrations.template.image {
                    let scratch = try DatabaseQueue()
                    defer { try? scratch.close() }
                    try Self.migrate(scratch, to: migrations, className: className, stamp: stamp, name: name)
                    return try scratch.inDatabase { db in try RoomFileImage(serializing: db) }
                }
                try database.inDatabase { db in
                    try template.load(into: db)
                    db.clearSchemaCache()
                    // Every room has an epoch of its own, not the template's.
                    try db.execute(sql: "UPDATE _rooms_meta SET value = lower(hex(randomblob(8))) WHERE key = 'epoch'")
                }
            }
            var meta = try Self.readMeta(database)
            if meta["migrations"] != stamp {
                try Self.migrate(database, to: migrations, className: className, stamp: stamp, name: name)
                meta = try Self.readMeta(database)
            }
            committedSequence = meta["sequence"].flatMap { Int64($0) } ?? 0
            sequence = committedSequence
            self.epoch = meta["epoch"] ?? ""
        } catch let error as StorageError {
            try? database.close()
            throw error
        } catch {
            try? database.close()
            throw StorageError(.migration, "cannot migrate \(name)", cause: error)
        }
        if !isProvisional, file != nil { openFiles?.opened() }
    }

    /// Runs the runtime's and the class's steps that `database` has not had, then records
    /// `stamp` (every step's name) as its migrations.
    ///
    /// - Throws: ``StorageError`` `migration` when a newer version of the class migrated the file,
    ///   or what a step threw.
    private static func migrate(
        _ database: DatabaseQueue, to migrations: RoomMigrations, className: String, stamp: String, name: String
    ) throws {
        var migrator = DatabaseMigrator()
        for step in runtimeMigrations.steps {
            migrator.registerMigration("_rooms.\(step.name)", foreignKeyChecks: .immediate, migrate: step.body)
        }
        for step in migrations.steps {
            migrator.registerMigration("\(className).\(step.name)", foreignKeyChecks: .immediate, migrate: step.body)
        }
        if try database.read({ try migrator.hasBeenSuperseded($0) }) {
            throw StorageError(.migration, "\(name) was migrated by a newer version of class '\(className)'")
        }
        try migrator.migrate(database)
        try database.write { db in
            try db.execute(sql: "INSERT OR REPLACE INTO _rooms_meta (key, value) VALUES ('migrations', ?)", arguments: [stamp])
        }
    }

    /// The runtime's rows of `_rooms_meta` (sequence, epoch, migrations stamp) as text; empty for
    /// a database that has no such table yet.
    private static func readMeta(_ database: DatabaseQueue) throws -> [String: String] {
        try database.inDatabase { db in
            // Not `db.tableExists`: GRDB loads and caches the whole schema for it, which cost a
            // wake more than the rest of this read.
            let exists = try Bool.fetchOne(
                db, sql: "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = '_rooms_meta'")
            guard exists != nil else { return [:] }
            var meta: [String: String] = [:]
            let rows = try Row.fetchCursor(
                db, sql: "SELECT key, CAST(value AS TEXT) FROM _rooms_meta WHERE key IN ('sequence', 'epoch', 'migrations')")
            while let row = try rows.next() { meta[row[0]] = row[1] }
            return meta
        }
    }

    // MARK: - The room's file

    /// Whether the room has no file and never will (an ephemeral room).
    var isEphemeral: Bool { file == nil }

    /// Opens the room's existing file with the room's configuration.
    private func openFile() throws -> DatabaseQueue {
        guard let file else { preconditionFailure("an ephemeral room has no file") }
        return try DatabaseQueue(path: file.path, configuration: configuration)
    }

    /// Creates the room's file from the in-memory database of a room that did not exist: what it
    /// committed so far is written to the file, which is used from then on. Called between turns,
    /// with nothing uncommitted.
    ///
    /// - Throws: ``StorageError`` `create`; then no file is left behind and the in-memory
    ///   database is kept.
    func materialize() throws(StorageError) {
        precondition(isProvisional && !inTurn && !transactionOpen, "materialize between turns, once")
        guard let file else { return }
        do {
            try database.inDatabase { db in try RoomFileImage(serializing: db).store(as: file) }
        } catch {
            // Nothing of this room's is on disk (a file that is there is not this room's: in a
            // cluster, another node created it).
            throw StorageError(.create, "cannot create \(file.path)", cause: error)
        }
        do {
            let onDisk = try openFile()
            try? database.close()
            database = onDisk
            isProvisional = false
            openFiles?.opened()
        } catch {
            for suffix in StorageLayout.fileSuffixes { try? FileManager.default.removeItem(atPath: file.path + suffix) }
            throw StorageError(.create, "cannot create \(file.path)", cause: error)
        }
    }

    /// Whether ``releaseFile()`` would close a file (the room has one open).
    var canReleaseFile: Bool { file != nil && !isProvisional && !isClosed }

    /// Closes the room's file while the room waits in a call, giving its descriptors back; the
    /// next storage use must follow ``reopenFile()``. Called between turns.
    func releaseFile() {
        precondition(!inTurn && !transactionOpen, "a file is released between turns")
        guard canReleaseFile else { return }
        try? database.close()
        isClosed = true
        openFiles?.closed()
    }

    /// Opens the file ``releaseFile()`` closed.
    ///
    /// - Throws: ``StorageError`` `open`.
    func reopenFile() throws(StorageError) {
        guard isClosed else { return }
        do {
            database = try openFile()
        } catch {
            throw StorageError(.open, "cannot reopen \(file?.path ?? "the room's file")", cause: error)
        }
        isClosed = false
        openFiles?.opened()
    }

    // MARK: - Room-class API

    /// The key-value store, for small Codable values.
    public var kv: KeyValueStore { KeyValueStore(storage: self) }

    /// Runs `sql` (any number of statements) as part of the current turn.
    public func execute(_ sql: String, arguments: StatementArguments = StatementArguments()) throws {
        try write { db in try db.cachedStatement(sql: sql).execute(arguments: arguments) }
    }

    /// The rows `sql` selects, seeing this turn's uncommitted writes.
    ///
    /// - Throws: a `DatabaseError` (`SQLITE_READONLY`) when `sql` would write.
    public func fetchAll(_ sql: String, arguments: StatementArguments = StatementArguments()) throws -> [Row] {
        try database.inDatabase { db in try Row.fetchAll(Self.query(sql, in: db), arguments: arguments) }
    }

    /// The first row `sql` selects, if any.
    ///
    /// - Throws: a `DatabaseError` (`SQLITE_READONLY`) when `sql` would write.
    public func fetchOne(_ sql: String, arguments: StatementArguments = StatementArguments()) throws -> Row? {
        try database.inDatabase { db in try Row.fetchOne(Self.query(sql, in: db), arguments: arguments) }
    }

    /// The cached statement for `sql`, which must only read. Checked on the statement itself
    /// rather than by switching the connection to read-only and back (two more statements).
    private static func query(_ sql: String, in db: Database) throws -> Statement {
        let statement = try db.cachedStatement(sql: sql)
        guard statement.isReadonly else {
            throw DatabaseError(resultCode: .SQLITE_READONLY, message: "fetch statements only read: \(sql)")
        }
        return statement
    }

    /// Gives `body` the database for reading. It sees this turn's uncommitted writes; it must not
    /// write (SQLite refuses: the connection is read-only for the call).
    public func read<T>(_ body: (Database) throws -> T) throws -> T {
        try database.inDatabase { db in try db.readOnly { try body(db) } }
    }

    /// ``read(_:)`` for the runtime's own fixed `SELECT`s (schedules, the key-value store): without
    /// the read-only guard, which costs two `PRAGMA query_only` statements per call, several per
    /// activation. Room code goes through ``read(_:)``.
    func readOwnQuery<T>(_ body: (Database) throws -> T) throws -> T {
        try database.inDatabase(body)
    }

    /// Gives `body` the database for writing, inside the current turn's transaction.
    ///
    /// Do not begin, commit or roll back transactions in `body`: the runtime owns them. Savepoints
    /// of your own are fine.
    public func write<T>(_ body: (Database) throws -> T) throws -> T {
        precondition(inTurn, "room storage is written during a turn (a hook), on the room's shard")
        return try database.inDatabase { db in
            try openTurnSavepoint(db)
            return try body(db)
        }
    }

    // MARK: - Sequence

    /// Allocates the next number of the room's sequence (1, 2, 3, ...), committed with the turn.
    ///
    /// Numbers are gap-free: a turn that fails gives its numbers back.
    func nextSequence() throws -> Int64 {
        try write { _ in }
        sequence += 1
        return sequence
    }

    // MARK: - Turns and commits (the runtime's side)

    /// Starts a turn: later writes join the open transaction under a savepoint of their own.
    func beginTurn() {
        precondition(!inTurn, "turns do not nest")
        inTurn = true
        turnWrote = false
        sequenceAtTurnStart = sequence
    }

    /// Ends the turn, keeping its writes (`keep`) or undoing them.
    ///
    /// - Throws: ``StorageError`` `transactionLost` when SQLite rolled back the whole transaction
    ///   (after I/O errors or a full disk), which undoes the earlier turns of the group as well.
    func endTurn(keep: Bool) throws(StorageError) {
        precondition(inTurn, "no turn to end")
        inTurn = false
        if !keep { sequence = sequenceAtTurnStart }
        guard savepointOpen else { return }
        savepointOpen = false
        do {
            try database.inDatabase { db in
                guard db.isInsideTransaction else {
                    throw StorageError(.transactionLost, "SQLite rolled back the transaction")
                }
                if !keep {
                    try db.cachedStatement(sql: "ROLLBACK TO turn").execute()
                }
                try db.cachedStatement(sql: "RELEASE turn").execute()
            }
        } catch {
            rollback()
            throw error as? StorageError ?? StorageError(.transactionLost, "cannot end the turn", cause: error)
        }
    }

    /// Whether writes are waiting for ``commit()``.
    var hasUncommittedWrites: Bool { transactionOpen }

    /// Commits the writes of every turn since the last commit.
    ///
    /// - Throws: ``StorageError`` `commit`; then nothing since the last commit is stored.
    func commit() throws(StorageError) {
        precondition(!inTurn, "commit happens between turns")
        guard transactionOpen else { return }
        do {
            if let leaseHolds, !leaseHolds() {
                throw StorageError(.fenced, "this node's cluster lease has lapsed; nothing was stored")
            }
            try database.inDatabase { db in
                if let ownerEpoch {
                    // The write lock is held since BEGIN IMMEDIATE: no other node can stamp the
                    // file between this read and the COMMIT.
                    let stored = try Int64.fetchOne(
                        db.cachedStatement(sql: "SELECT CAST(value AS INTEGER) FROM _rooms_meta WHERE key = 'owner_epoch'"))
                    guard stored == ownerEpoch else {
                        throw StorageError(
                            .fenced,
                            "another node took the room over (owner epoch \(stored.map(String.init) ?? "none") in its file, this node holds it at \(ownerEpoch)); nothing was stored")
                    }
                }
                if sequence != committedSequence {
                    try db.cachedStatement(sql: "UPDATE _rooms_meta SET value = ? WHERE key = 'sequence'")
                        .execute(arguments: [sequence])
                }
                try db.cachedStatement(sql: "COMMIT").execute()
            }
            transactionOpen = false
            committedSequence = sequence
        } catch let error as StorageError {
            rollback()
            throw error
        } catch {
            rollback()
            throw StorageError(.commit, "commit failed", cause: error)
        }
    }

    /// Takes the room's file for this node at `epoch`, the number the cluster's control plane gave
    /// it when the node took the room (``commit()`` checks it from then on): stamps it into the
    /// file unless the file carries a newer one. Called before the room's first turn.
    ///
    /// - Throws: ``StorageError`` `fenced` when the file carries a newer epoch (another node took
    ///   the room after this one was given it); `commit` when the stamp cannot be written.
    func takeOwnership(epoch: Int64, while leaseHolds: (@Sendable () -> Bool)? = nil) throws(StorageError) {
        precondition(!inTurn && !transactionOpen, "ownership is taken between turns")
        do {
            try database.inDatabase { db in
                try db.execute(sql: "BEGIN IMMEDIATE")
                do {
                    let stored = try Int64.fetchOne(
                        db, sql: "SELECT CAST(value AS INTEGER) FROM _rooms_meta WHERE key = 'owner_epoch'") ?? 0
                    guard stored <= epoch else {
                        throw StorageError(
                            .fenced, "another node took the room over (owner epoch \(stored) in its file, newer than \(epoch))")
                    }
                    if stored != epoch {
                        try db.execute(
                            sql: "INSERT OR REPLACE INTO _rooms_meta (key, value) VALUES ('owner_epoch', ?)", arguments: [epoch])
                    }
                    // What the previous owner committed after this connection read the file's
                    // counters (before the stamp) counts: read them again under the lock.
                    let current = try Int64.fetchOne(
                        db, sql: "SELECT CAST(value AS INTEGER) FROM _rooms_meta WHERE key = 'sequence'") ?? 0
                    try db.execute(sql: "COMMIT")
                    committedSequence = current
                    sequence = current
                } catch {
                    try? db.execute(sql: "ROLLBACK")
                    throw error
                }
            }
            ownerEpoch = epoch
            self.leaseHolds = leaseHolds
        } catch let error as StorageError {
            throw error
        } catch {
            throw StorageError(.commit, "cannot stamp the owner epoch", cause: error)
        }
    }

    /// Undoes everything since the last commit.
    func rollback() {
        try? database.inDatabase { db in
            if db.isInsideTransaction { try db.execute(sql: "ROLLBACK") }
        }
        transactionOpen = false
        savepointOpen = false
        sequence = committedSequence
    }

    /// Whether the database can stay open after the room hibernates (see `WarmDatabases`): it is
    /// the room's file, open, with nothing uncommitted.
    var canStayOpen: Bool { file != nil && !isProvisional && !isClosed && !transactionOpen && !inTurn }

    /// Readies the database to wait, open, for the room's next activation: SQLite gives back the
    /// memory of its page cache (the schema and the compiled statements stay).
    func prepareToStayOpen() {
        precondition(canStayOpen, "only an open room file with nothing uncommitted stays open")
        try? database.inDatabase { db in _ = sqlite3_db_release_memory(db.sqliteConnection) }
    }

    /// Rolls back what is uncommitted and closes the file (releasing its descriptors).
    func close() {
        if isClosed { return }
        if transactionOpen { rollback() }
        try? database.close()
        isClosed = true
        if file != nil, !isProvisional { openFiles?.closed() }
    }

    private func openTurnSavepoint(_ db: Database) throws {
        if transactionOpen && !db.isInsideTransaction {
            // SQLite rolled back the whole transaction (a full disk, an I/O error, a ROLLBACK
            // conflict clause): refuse further writes, which would otherwise autocommit outside
            // the turn. `endTurn` reports the loss to the whole group.
            throw StorageError(.transactionLost, "SQLite rolled back the transaction")
        }
        if !transactionOpen {
            try db.cachedStatement(sql: "BEGIN IMMEDIATE").execute()
            transactionOpen = true
        }
        if !savepointOpen {
            try db.cachedStatement(sql: "SAVEPOINT turn").execute()
            savepointOpen = true
            turnWrote = true
        }
    }
}

extension RoomStorage {
    /// How long a connection to a room file waits for a lock another connection holds before it
    /// fails with `SQLITE_BUSY`. The runtime is a room file's only writer, but not its only
    /// reader: a peek (``peekSequence(file:)``, for `GET /rooms/{kind}/{id}` on a hibernated room),
    /// a backup or an operator's `sqlite3` opens it too, and the first connection to open a file
    /// whose last one closed without a checkpoint recovers the WAL under an exclusive lock. An
    /// activation that met such a lock would otherwise fail and put the room in quarantine; it
    /// waits instead (on the shard thread, which only a lock held this long can make it do).
    static let busyTimeout: TimeInterval = 1

    /// The last committed sequence number in the room file `file`, read without activating the
    /// room; nil when the file does not exist.
    static func peekSequence(file: URL) throws -> Int64? {
        guard FileManager.default.fileExists(atPath: file.path) else { return nil }
        var configuration = Configuration()
        configuration.readonly = true
        configuration.label = "peek"
        configuration.busyMode = .timeout(busyTimeout)
        // Closing as the file's last connection would take the file's exclusive lock to try a
        // checkpoint (which a read-only connection then cannot do): an activation opening the
        // room at that moment would find it locked. A peek takes shared locks only.
        configuration.prepareDatabase { db in _ = rooms_sqlite3_skip_checkpoint_on_close(db.sqliteConnection) }
        // A read-only connection cannot recover a WAL that the room's last connection left behind;
        // when it meets one being recovered by the room opening, SQLite says I/O error. That is
        // over in a moment: try again a few times.
        var attempt = 0
        while true {
            do {
                let database = try DatabaseQueue(path: file.path, configuration: configuration)
                defer { try? database.close() }
                return try database.inDatabase { db in
                    guard try db.tableExists("_rooms_meta") else { return 0 }
                    return try Int64.fetchOne(db, sql: "SELECT value FROM _rooms_meta WHERE key = 'sequence'") ?? 0
                }
            } catch let error as DatabaseError where error.resultCode == .SQLITE_IOERR && attempt < 5 {
                attempt += 1
                Thread.sleep(forTimeInterval: 0.01 * Double(attempt))
            }
        }
    }
}
