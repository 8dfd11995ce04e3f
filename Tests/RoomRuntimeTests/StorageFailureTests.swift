import Foundation
import GRDB
import NIOCore
import RoomTesting
import TestSupport
import Testing

@_spi(Node) @testable import RoomRuntime

/// A room that writes what it is asked to: `POST limit/PAGES` caps its file at PAGES pages,
/// `POST write/BYTES` stores a blob of that size.
final class FillingRoom: Room {
    static let className = "filling"

    static var migrations: RoomMigrations {
        var migrations = RoomMigrations()
        migrations.add("v1") { db in try db.execute(sql: "CREATE TABLE blobs (data BLOB NOT NULL)") }
        return migrations
    }

    init(options: NoOptions) {}

    func onRequest(_ request: RoomRequest, context: isolated RoomContext) async throws -> RoomResponse {
        let size = Int(request.path.last ?? "") ?? 0
        switch request.path.first {
        case "limit":
            _ = try context.storage.write { db in try Int.fetchOne(db, sql: "PRAGMA max_page_count = \(size)") }
        case "write":
            try context.storage.execute("INSERT INTO blobs (data) VALUES (?)", arguments: [Data(count: size)])
        default:
            throw RoomError.notFound(.notFound, "limit/N or write/N")
        }
        return RoomResponse(status: 204)
    }
}

@Suite("Storage failures keep their cause", .watched)
struct StorageFailureTests {
    @Test("a full disk and a file locked by another process are both storage_failed, and say which")
    func fullIsNotBusy() async throws {
        let fixture = try RuntimeFixture(kind: "filling", roomClass: RoomClass(FillingRoom.self))
        defer { fixture.directory.remove() }
        _ = try await fixture.request("f", "POST", ["write", "10"])

        // Full: SQLite refuses to grow the file past its page limit (SQLITE_FULL).
        _ = try await fixture.request("f", "POST", ["limit", "8"])
        let full = await #expect(throws: RoomError.self) {
            try await fixture.request("f", "POST", ["write", "200000"])
        }
        #expect(full?.code == .storageFailed)
        #expect(full?.category == .unavailable)
        #expect(full?.message.contains("full") == true, "\(full?.message ?? "")")

        // Busy: another connection holds the file's write lock (SQLITE_BUSY).
        var configuration = Configuration()
        configuration.allowsUnsafeTransactions = true
        configuration.busyMode = .timeout(5)
        let other = try DatabaseQueue(
            path: fixture.runtime.layout.file(of: fixture.address("f")).path, configuration: configuration)
        try await other.writeWithoutTransaction { db in try db.execute(sql: "BEGIN IMMEDIATE") }
        let busy = await #expect(throws: RoomError.self) {
            try await fixture.request("f", "POST", ["write", "10"])
        }
        #expect(busy?.code == .storageFailed)
        #expect(busy?.message.contains("locked") == true, "\(busy?.message ?? "")")
        try await other.writeWithoutTransaction { db in try db.execute(sql: "ROLLBACK") }
        try other.close()
        _ = try await fixture.request("f", "POST", ["write", "10"])
        await fixture.stop()
    }

    @Test("StorageError classifies SQLite's result codes")
    func classification() {
        let full = StorageError(.commit, "x", cause: DatabaseError(resultCode: .SQLITE_FULL))
        #expect(full.isDiskFull && !full.isBusy && full.isEnvironmental)
        #expect(full.resultCode == .SQLITE_FULL)
        let busy = StorageError(.commit, "x", cause: DatabaseError(resultCode: .SQLITE_BUSY))
        #expect(busy.isBusy && !busy.isDiskFull)
        let corrupt = StorageError(.open, "x", cause: DatabaseError(resultCode: .SQLITE_NOTADB))
        #expect(corrupt.isCorrupt)
        let constraint = StorageError(.statement, "x", cause: DatabaseError(resultCode: .SQLITE_CONSTRAINT))
        #expect(!constraint.isEnvironmental)
        #expect(constraint.description.contains("19"))
    }
}
