import Foundation
import GRDB
import GRDBSQLite
import Synchronization
import TestSupport
import Testing

@_spi(Node) @testable import RoomRuntime

@Suite("Room storage", .watched)
final class StorageTests {
    let directory: TemporaryDirectory

    init() throws {
        directory = try TemporaryDirectory()
    }

    deinit {
        directory.remove()
    }

    func open(_ name: String = "room", migrations: RoomMigrations = RoomMigrations(), synchronous: SynchronousMode = .normal)
        throws -> RoomStorage
    {
        try RoomStorage(
            file: directory.url.appendingPathComponent("\(name).sqlite"), synchronous: synchronous,
            className: "test", migrations: migrations)
    }

    static var itemsTable: RoomMigrations {
        var migrations = RoomMigrations()
        migrations.add("v1") { db in try db.execute(sql: "CREATE TABLE items (n INTEGER NOT NULL)") }
        return migrations
    }

    /// What a second, independent connection to the file sees.
    func committedItems(_ name: String = "room") throws -> [Int] {
        let reader = try DatabaseQueue(path: directory.url.appendingPathComponent("\(name).sqlite").path)
        defer { try? reader.close() }
        return try reader.read { db in try Int.fetchAll(db, sql: "SELECT n FROM items ORDER BY n") }
    }

    @Test("a file path comes from the digest of kind/id, never from the raw id")
    func layout() throws {
        let address = try RoomAddress(kind: "chat", id: "../../etc/passwd")
        let digest = StorageLayout.digest(of: address)
        // printf %s 'chat/../../etc/passwd' | sha256sum
        #expect(digest == "4ba63e372ff67d632e956a46375ef72095a034f7ddb69fcc10efb059c5f983ba")
        let relative = StorageLayout.relativePath(of: address)
        #expect(relative == "rooms/chat/\(digest.prefix(2))/\(digest.dropFirst(2).prefix(2))/\(digest).sqlite")
        #expect(!relative.contains("passwd"))
        let layout = StorageLayout(root: directory.url)
        #expect(layout.file(of: address).path.hasPrefix(directory.url.standardizedFileURL.path + "/rooms/chat/"))
    }

    @Test("the digest is SHA-256 of kind/id")
    func digestIsSHA256() throws {
        // printf %s 'chat/lobby' | sha256sum
        #expect(
            StorageLayout.digest(of: try RoomAddress(kind: "chat", id: "lobby"))
                == "3d48f16812340c193a69d7c4b46625f16a5d01ced63845b97e8cabc9c3bf3bbe")
    }

    @Test("a kept turn commits; a discarded turn leaves no trace, even in a shared commit")
    func turnsAndGroupCommit() throws {
        let storage = try open(migrations: Self.itemsTable)
        defer { storage.close() }

        storage.beginTurn()
        try storage.execute("INSERT INTO items (n) VALUES (1)")
        #expect(try storage.nextSequence() == 1)
        try storage.endTurn(keep: true)

        storage.beginTurn()
        try storage.execute("INSERT INTO items (n) VALUES (2)")
        #expect(try storage.nextSequence() == 2)
        try storage.endTurn(keep: false)

        storage.beginTurn()
        try storage.execute("INSERT INTO items (n) VALUES (3)")
        #expect(try storage.nextSequence() == 2, "the discarded turn gave its number back")
        try storage.endTurn(keep: true)

        // Nothing is visible to other connections before the commit.
        #expect(try committedItems() == [])
        #expect(storage.hasUncommittedWrites)
        try storage.commit()
        #expect(try committedItems() == [1, 3])
        #expect(storage.committedSequence == 2)
        #expect(!storage.hasUncommittedWrites)
    }

    @Test("closing with uncommitted writes rolls them back; the sequence survives reopening")
    func closeRollsBack() throws {
        do {
            let storage = try open(migrations: Self.itemsTable)
            storage.beginTurn()
            _ = try storage.nextSequence()
            try storage.execute("INSERT INTO items (n) VALUES (1)")
            try storage.endTurn(keep: true)
            try storage.commit()
            storage.beginTurn()
            _ = try storage.nextSequence()
            try storage.execute("INSERT INTO items (n) VALUES (2)")
            try storage.endTurn(keep: true)
            storage.close()
        }
        #expect(try committedItems() == [1])
        let reopened = try open(migrations: Self.itemsTable)
        defer { reopened.close() }
        #expect(reopened.committedSequence == 1)
    }

    @Test("the key-value store keeps Codable values")
    func keyValue() throws {
        struct Settings: Codable, Equatable {
            var topic: String
            var limit: Int
        }
        let storage = try open()
        defer { storage.close() }
        storage.beginTurn()
        try storage.kv.set("settings", Settings(topic: "lunch", limit: 3))
        try storage.kv.set("user:ann", 1)
        try storage.kv.set("user:bob", 2)
        try storage.kv.set("usér:carl", 3)
        #expect(try storage.kv.get("settings", as: Settings.self) == Settings(topic: "lunch", limit: 3))
        #expect(try storage.kv.keys(prefix: "user:") == ["user:ann", "user:bob"])
        #expect(try storage.kv.keys(prefix: "usé") == ["usér:carl"])
        try storage.kv.remove("user:ann")
        #expect(try storage.kv.get("user:ann", as: Int.self) == nil)
        #expect(try storage.kv.get("missing", as: Int.self) == nil)
        try storage.endTurn(keep: true)
        try storage.commit()
        #expect(try storage.kv.keys() == ["settings", "user:bob", "usér:carl"])
    }

    @Test("read gives a read-only view")
    func readIsReadOnly() throws {
        let storage = try open(migrations: Self.itemsTable)
        defer { storage.close() }
        #expect(throws: DatabaseError.self) {
            try storage.read { db in try db.execute(sql: "INSERT INTO items (n) VALUES (1)") }
        }
        #expect(try committedItems() == [])
    }

    @Test("files are in WAL mode with the configured synchronous level", arguments: SynchronousMode.allCases)
    func pragmas(mode: SynchronousMode) throws {
        let storage = try open(synchronous: mode)
        defer { storage.close() }
        let (journal, synchronous) = try storage.database.inDatabase { db in
            (try String.fetchOne(db, sql: "PRAGMA journal_mode"), try Int.fetchOne(db, sql: "PRAGMA synchronous"))
        }
        #expect(journal == "wal")
        #expect(synchronous == (mode == .full ? 2 : 1))
    }

    @Test("a WAL database holds 3 descriptors, and closing releases them")
    func closeReleasesDescriptors() throws {
        let storage = try open("descriptors")
        #expect(descriptors(under: directory.url).count == 3)  // the file, -wal and -shm
        storage.close()
        #expect(descriptors(under: directory.url).isEmpty)
    }

    @Test("fetchAll and fetchOne only read: a writing statement is refused and changes nothing")
    func fetchOnlyReads() throws {
        let storage = try open(migrations: Self.itemsTable)
        defer { storage.close() }
        storage.beginTurn()
        try storage.execute("INSERT INTO items (n) VALUES (1)")
        #expect(throws: DatabaseError.self) { try storage.fetchAll("DELETE FROM items RETURNING n") }
        #expect(throws: DatabaseError.self) { try storage.fetchOne("INSERT INTO items (n) VALUES (2) RETURNING n") }
        #expect(try storage.fetchAll("SELECT n FROM items").map { $0["n"] as Int } == [1])
        try storage.endTurn(keep: true)
        try storage.commit()
        #expect(try committedItems() == [1])
    }

    /// Stores one item in the room file `name` and closes it, leaving the WAL behind.
    func storeOneItem(_ name: String = "room") throws {
        let storage = try open(name, migrations: Self.itemsTable)
        storage.beginTurn()
        _ = try storage.nextSequence()
        try storage.execute("INSERT INTO items (n) VALUES (1)")
        try storage.endTurn(keep: true)
        try storage.commit()
        storage.close()
    }

    @Test("opening a room file waits for a lock another connection holds for a moment, instead of failing")
    func openWaitsForLock() throws {
        try storeOneItem()
        // Another connection holds the file's exclusive lock (as the one recovering the WAL
        // does) and lets go 300 ms later.
        let holder = try DatabaseQueue(path: directory.url.appendingPathComponent("room.sqlite").path)
        try holder.inDatabase { db in
            try db.execute(sql: "PRAGMA locking_mode = EXCLUSIVE")
            try db.execute(sql: "BEGIN EXCLUSIVE; COMMIT")
        }
        let released = Thread {
            Thread.sleep(forTimeInterval: 0.3)
            try? holder.close()
        }
        let start = ContinuousClock.now
        released.start()
        let storage = try open(migrations: Self.itemsTable)
        defer { storage.close() }
        #expect(ContinuousClock.now - start >= .milliseconds(250), "the lock was held while the room opened")
        #expect(storage.committedSequence == 1)
        #expect(try storage.fetchAll("SELECT n FROM items").map { $0["n"] as Int } == [1])
    }

    @Test("peeking at a room file while the room opens never makes the opening fail")
    func peekBesideOpening() async throws {
        try storeOneItem()
        let file = directory.url.appendingPathComponent("room.sqlite")
        for _ in 0..<40 {
            // Each round the room closes without a checkpoint, so the next connection to the file
            // recovers its WAL, while a peek opens and closes it over and over.
            let peeking = Task.detached {
                for _ in 0..<20 { _ = try RoomStorage.peekSequence(file: file) }
            }
            let storage = try open(migrations: Self.itemsTable)
            #expect(storage.committedSequence == 1)
            storage.close()
            try await peeking.value
        }
    }

    /// A room that does not exist yet, at `file`: in memory until ``RoomStorage/materialize()``,
    /// holding item 1 committed.
    func provisionalRoom(at file: URL) throws -> RoomStorage {
        let storage = try RoomStorage(
            file: file, synchronous: .normal, className: "test", migrations: Self.itemsTable, deferringCreation: true)
        #expect(storage.isProvisional)
        storage.beginTurn()
        _ = try storage.nextSequence()
        try storage.execute("INSERT INTO items (n) VALUES (1)")
        try storage.endTurn(keep: true)
        try storage.commit()
        return storage
    }

    @Test("a room created on its first commit is written whole, in WAL mode, into folders made for it, with nothing left beside it")
    func creationWritesTheImage() throws {
        let file = directory.url.appendingPathComponent("rooms/ab/cd/new.sqlite")
        // A creation a crash interrupted elsewhere left a half-written image: it is overwritten.
        let leftover = directory.url.appendingPathComponent("rooms/ab/cd/new.sqlite" + RoomFileImage.temporarySuffix)
        try FileManager.default.createDirectory(at: leftover.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data("half a database".utf8).write(to: leftover)
        // And one of this build's own names (each creation writes to a name of its own).
        try Data("half a database".utf8).write(to: URL(fileURLWithPath: leftover.path + ".4242.77"))
        let storage = try provisionalRoom(at: file)
        #expect(!FileManager.default.fileExists(atPath: file.path), "nothing is on disk before the creation")
        try storage.materialize()
        #expect(!storage.isProvisional)
        let header = try #require(FileManager.default.contents(atPath: file.path)).prefix(20)
        #expect(header.starts(with: Data("SQLite format 3\0".utf8)))
        #expect(Array(header.suffix(2)) == [2, 2], "the file says WAL from its first byte")

        storage.beginTurn()
        _ = try storage.nextSequence()
        try storage.execute("INSERT INTO items (n) VALUES (2)")
        try storage.endTurn(keep: true)
        try storage.commit()
        #expect(try committedItems("rooms/ab/cd/new") == [1, 2])
        storage.close()
        #expect(Set(directory.files()) == ["rooms/ab/cd/new.sqlite", "rooms/ab/cd/new.sqlite-wal", "rooms/ab/cd/new.sqlite-shm"])

        let reopened = try RoomStorage(file: file, synchronous: .normal, className: "test", migrations: Self.itemsTable)
        defer { reopened.close() }
        #expect(reopened.committedSequence == 2)
        #expect(try reopened.database.inDatabase { try String.fetchOne($0, sql: "PRAGMA journal_mode") } == "wal")
    }

    @Test("a creation that cannot write the file fails as create, leaves nothing on disk, and keeps the room in memory")
    func creationFailure() throws {
        // A regular file stands where the room's folder should be.
        let blocker = directory.url.appendingPathComponent("blocked")
        try Data("x".utf8).write(to: blocker)
        let storage = try provisionalRoom(at: blocker.appendingPathComponent("room.sqlite"))
        defer { storage.close() }
        let error = try #require(throws: StorageError.self) { try storage.materialize() }
        #expect(error.kind == .create)
        #expect(error.isEnvironmental)
        #expect(storage.isProvisional)
        #expect(try storage.fetchAll("SELECT n FROM items").map { $0["n"] as Int } == [1])
        #expect(directory.files() == ["blocked"])
    }

    @Test("rooms created from nothing start from one template: the steps run once, each room has its own epoch")
    func creationFromTemplate() throws {
        let runs = Atomic(0)
        var migrations = RoomMigrations()
        migrations.add("v1") { db in
            runs.add(1, ordering: .relaxed)
            try db.execute(sql: "CREATE TABLE items (n INTEGER NOT NULL)")
        }
        var epochs: Set<String> = []
        for index in 0..<3 {
            let storage = try RoomStorage(
                file: directory.url.appendingPathComponent("t\(index).sqlite"), synchronous: .normal, className: "test",
                migrations: migrations, deferringCreation: true)
            defer { storage.close() }
            epochs.insert(storage.epoch)
            storage.beginTurn()
            _ = try storage.nextSequence()
            try storage.execute("INSERT INTO items (n) VALUES (?)", arguments: [index])
            try storage.endTurn(keep: true)
            try storage.commit()
            try storage.materialize()
            #expect(try committedItems("t\(index)") == [index], "each room holds only its own rows")
        }
        #expect(runs.load(ordering: .relaxed) == 1)
        #expect(epochs.count == 3)
        #expect(epochs.allSatisfy { $0.count == 16 })

        // A step added later is a new template (and files created before run only that step).
        migrations.add("v2") { db in try db.execute(sql: "CREATE TABLE more (n INTEGER)") }
        let reopened = try RoomStorage(
            file: directory.url.appendingPathComponent("t0.sqlite"), synchronous: .normal, className: "test",
            migrations: migrations)
        defer { reopened.close() }
        #expect(try reopened.fetchAll("SELECT count(*) AS n FROM more").first?["n"] as Int? == 0)
        #expect(runs.load(ordering: .relaxed) == 1)
    }

    @Test("a room's page cache stays within roomCacheKiB however much it reads, and its WAL is cut back after a checkpoint")
    func cacheAndWALBounds() throws {
        var migrations = RoomMigrations()
        migrations.add("v1") { db in try db.execute(sql: "CREATE TABLE blobs (data BLOB NOT NULL)") }
        let file = directory.url.appendingPathComponent("big.sqlite")
        let storage = try RoomStorage(
            file: file, synchronous: .normal, className: "test", migrations: migrations, cacheKiB: 64)
        defer { storage.close() }
        // 6 MiB in 60 commits: past the automatic checkpoint (1,000 pages), so the WAL grew to
        // about 4 MiB at some point.
        for _ in 0..<60 {
            storage.beginTurn()
            _ = try storage.nextSequence()
            for _ in 0..<50 {
                try storage.execute("INSERT INTO blobs (data) VALUES (randomblob(2048))")
            }
            try storage.endTurn(keep: true)
            try storage.commit()
        }
        let read = try storage.fetchOne("SELECT count(*) AS n, sum(length(data)) AS bytes FROM blobs")
        #expect(read?["n"] as Int? == 3_000)
        let cacheUsed = try storage.database.inDatabase { db in
            var current: Int32 = 0
            var highest: Int32 = 0
            sqlite3_db_status(db.sqliteConnection, SQLITE_DBSTATUS_CACHE_USED, &current, &highest, 0)
            return Int(current)
        }
        // SQLite's default (2 MiB) would hold about 2 MiB after reading 6 MiB.
        #expect(cacheUsed > 0)
        #expect(cacheUsed <= 96 * 1024, "the cache holds \(cacheUsed) bytes")

        // A checkpoint, then a commit: the WAL restarts and is cut back to the limit.
        try storage.database.inDatabase { db in _ = try Row.fetchAll(db, sql: "PRAGMA wal_checkpoint(PASSIVE)") }
        storage.beginTurn()
        _ = try storage.nextSequence()
        try storage.execute("INSERT INTO blobs (data) VALUES (randomblob(100))")
        try storage.endTurn(keep: true)
        try storage.commit()
        let wal = try FileManager.default.attributesOfItem(atPath: file.path + "-wal")[.size] as? Int ?? -1
        #expect(wal > 0)
        #expect(wal <= RoomStorage.walSizeLimit, "the WAL is \(wal) bytes")
    }

    /// Writes item `n` in one turn and commits it.
    func commitItem(_ n: Int, to storage: RoomStorage) throws {
        storage.beginTurn()
        _ = try storage.nextSequence()
        try storage.execute("INSERT INTO items (n) VALUES (?)", arguments: [n])
        try storage.endTurn(keep: true)
        try storage.commit()
    }

    @Test("fencing: once another node stamped a newer owner epoch, the old owner's commits are refused and nothing of them is stored")
    func staleOwnerIsFenced() throws {
        let file = directory.url.appendingPathComponent("room.sqlite")
        let old = try RoomStorage(file: file, synchronous: .normal, className: "test", migrations: Self.itemsTable)
        defer { old.close() }
        try old.takeOwnership(epoch: 1)
        try commitItem(1, to: old)

        let new = try RoomStorage(file: file, synchronous: .normal, className: "test", migrations: Self.itemsTable)
        defer { new.close() }
        try new.takeOwnership(epoch: 2)
        #expect(try new.fetchAll("SELECT n FROM items").map { $0["n"] as Int } == [1], "the new owner reads what the old one committed")

        let refused = try #require(throws: StorageError.self) { try commitItem(2, to: old) }
        #expect(refused.kind == .fenced)
        #expect(!refused.isEnvironmental)
        #expect(try committedItems() == [1])
        try commitItem(3, to: new)
        #expect(try committedItems() == [1, 3])
        // Nor can the old owner stamp its epoch back.
        let stamp = try #require(throws: StorageError.self) { try old.takeOwnership(epoch: 1) }
        #expect(stamp.kind == .fenced)
        #expect(try committedItems() == [1, 3])
        let ownerEpoch = try DatabaseQueue(path: file.path).read { db in
            try Int.fetchOne(db, sql: "SELECT value FROM _rooms_meta WHERE key = 'owner_epoch'")
        }
        #expect(ownerEpoch == 2)
    }

    @Test("fencing: a takeover waits for the old owner's open write, and then reads it")
    func takeoverWaitsForTheWriteLock() throws {
        let file = directory.url.appendingPathComponent("room.sqlite")
        let old = try RoomStorage(file: file, synchronous: .normal, className: "test", migrations: Self.itemsTable)
        defer { old.close() }
        try old.takeOwnership(epoch: 1)
        old.beginTurn()
        _ = try old.nextSequence()
        try old.execute("INSERT INTO items (n) VALUES (1)")
        try old.endTurn(keep: true)
        // The old owner's transaction holds SQLite's write lock: the stamp cannot go in before it.
        let new = try RoomStorage(file: file, synchronous: .normal, className: "test", migrations: Self.itemsTable)
        defer { new.close() }
        let busy = try #require(throws: StorageError.self) { try new.takeOwnership(epoch: 2) }
        #expect(busy.isBusy)
        #expect(new.committedSequence == 0, "opened before the old owner's commit")
        try old.commit()
        try new.takeOwnership(epoch: 2)
        #expect(try new.fetchAll("SELECT n FROM items").map { $0["n"] as Int } == [1])
        #expect(new.committedSequence == 1, "the counters are read again under the lock")
        try commitItem(2, to: new)
        #expect(new.committedSequence == 2)
        let refused = try #require(throws: StorageError.self) { try commitItem(2, to: old) }
        #expect(refused.kind == .fenced)
    }

    @Test("two nodes creating the same room: the second creation fails and the first's file stands")
    func creationNeverReplacesAFile() throws {
        let file = directory.url.appendingPathComponent("rooms/ab/new.sqlite")
        let first = try provisionalRoom(at: file)
        defer { first.close() }
        let second = try provisionalRoom(at: file)
        defer { second.close() }
        try commitItem(2, to: first)
        try first.materialize()
        let error = try #require(throws: StorageError.self) { try second.materialize() }
        #expect(error.kind == .create)
        #expect(try committedItems("rooms/ab/new") == [1, 2])
        #expect(Set(directory.files()) == ["rooms/ab/new.sqlite", "rooms/ab/new.sqlite-wal", "rooms/ab/new.sqlite-shm"])
    }

    @Test("fencing: once the node's lease no longer holds, a commit is refused even before any other node stamped the file")
    func lapsedLeaseRefusesCommits() throws {
        let file = directory.url.appendingPathComponent("room.sqlite")
        let storage = try RoomStorage(file: file, synchronous: .normal, className: "test", migrations: Self.itemsTable)
        defer { storage.close() }
        let holds = Atomic(true)
        try storage.takeOwnership(epoch: 1, while: { holds.load(ordering: .relaxed) })
        try commitItem(1, to: storage)
        holds.store(false, ordering: .relaxed)
        let refused = try #require(throws: StorageError.self) { try commitItem(2, to: storage) }
        #expect(refused.kind == .fenced)
        #expect(try committedItems() == [1])
    }
}
