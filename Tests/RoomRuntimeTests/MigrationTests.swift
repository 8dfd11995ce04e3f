import Foundation
import GRDB
import TestSupport
import Testing

@_spi(Node) @testable import RoomRuntime

@Suite("Migrations", .watched)
final class MigrationTests {
    let directory: TemporaryDirectory
    var file: URL { directory.url.appendingPathComponent("room.sqlite") }

    init() throws {
        directory = try TemporaryDirectory()
    }

    deinit {
        directory.remove()
    }

    static func steps(_ count: Int, failing: Int? = nil) -> RoomMigrations {
        var migrations = RoomMigrations()
        migrations.add("v1") { db in try db.execute(sql: "CREATE TABLE moves (n INTEGER NOT NULL)") }
        if count >= 2 {
            migrations.add("v2") { db in
                try db.execute(sql: "ALTER TABLE moves ADD COLUMN player TEXT NOT NULL DEFAULT 'nobody'")
                if failing == 2 { throw RoomError.internal("step 2 fails") }
            }
        }
        if count >= 3 {
            migrations.add("v3") { db in try db.execute(sql: "CREATE INDEX moves_by_player ON moves (player)") }
        }
        return migrations
    }

    func open(_ migrations: RoomMigrations) throws -> RoomStorage {
        try RoomStorage(file: file, synchronous: .normal, className: "game", migrations: migrations)
    }

    /// The class's applied steps, after checking that the runtime's own came first.
    func applied(_ storage: RoomStorage) throws -> [String] {
        let all = try storage.read { db in
            try String.fetchAll(db, sql: "SELECT identifier FROM grdb_migrations ORDER BY rowid")
        }
        let runtime = RoomStorage.runtimeMigrations.steps.map { "_rooms.\($0.name)" }
        #expect(Array(all.prefix(runtime.count)) == runtime)
        return Array(all.dropFirst(runtime.count))
    }

    @Test("steps apply once each, in order, and later steps apply to existing files")
    func incremental() throws {
        do {
            let storage = try open(Self.steps(1))
            storage.beginTurn()
            try storage.execute("INSERT INTO moves (n) VALUES (1)")
            try storage.endTurn(keep: true)
            try storage.commit()
            #expect(try applied(storage) == ["game.v1"])
            storage.close()
        }
        let storage = try open(Self.steps(3))
        defer { storage.close() }
        #expect(try applied(storage) == ["game.v1", "game.v2", "game.v3"])
        let row = try storage.fetchOne("SELECT n, player FROM moves")
        #expect(row?["n"] == 1)
        #expect(row?["player"] == "nobody")
        storage.close()
        // Opening again runs nothing new.
        let again = try open(Self.steps(3))
        #expect(try applied(again) == ["game.v1", "game.v2", "game.v3"])
        again.close()
    }

    @Test("a failing step leaves the file as it was and the room unable to open")
    func failingStep() throws {
        try open(Self.steps(1)).close()
        let error = #expect(throws: StorageError.self) { try open(Self.steps(2, failing: 2)) }
        #expect(error?.kind == .migration)
        let storage = try open(Self.steps(1))
        defer { storage.close() }
        #expect(try applied(storage) == ["game.v1"])
        let columns = try storage.read { db in try db.columns(in: "moves").map(\.name) }
        #expect(columns == ["n"])
    }

    @Test("a file migrated by a newer class is refused, not damaged")
    func newerFile() throws {
        try open(Self.steps(3)).close()
        let error = #expect(throws: StorageError.self) { try open(Self.steps(1)) }
        #expect(error?.kind == .migration)
    }

    @Test("registering a step name twice is a programming error")
    func namesAreUnique() async {
        await #expect(processExitsWith: .failure) {
            var migrations = RoomMigrations()
            migrations.add("v1") { _ in }
            migrations.add("v1") { _ in }
        }
    }

    @Test("a file stamped with the class's steps opens without the migrator; a new step unstamps it")
    func currentFileSkipsTheMigrator() throws {
        try open(Self.steps(2)).close()
        // GRDB's record of the steps is gone: the migrator would run every step again (and fail:
        // the table exists). A current stamp means it is not consulted.
        let raw = try DatabaseQueue(path: file.path)
        try raw.write { db in try db.execute(sql: "DELETE FROM grdb_migrations") }
        try raw.close()
        let current = try open(Self.steps(2))
        #expect(try current.fetchOne("SELECT count(*) AS n FROM grdb_migrations")?["n"] == 0)
        current.close()
        // A class with one more step runs the migrator, which (with its record gone) fails on
        // the first step: the stamp no longer matches.
        #expect(throws: StorageError.self) { try open(Self.steps(3)) }
    }

    @Test("the -wal and -shm files stay when a room's file closes, and the data is read back through them")
    func persistentWAL() throws {
        do {
            let storage = try open(Self.steps(1))
            storage.beginTurn()
            try storage.execute("INSERT INTO moves (n) VALUES (7)")
            try storage.endTurn(keep: true)
            try storage.commit()
            storage.close()
        }
        for suffix in ["-wal", "-shm"] {
            #expect(FileManager.default.fileExists(atPath: file.path + suffix), "\(suffix) was deleted at close")
        }
        let storage = try open(Self.steps(1))
        defer { storage.close() }
        #expect(try storage.fetchOne("SELECT n FROM moves")?["n"] == 7)
    }
}
