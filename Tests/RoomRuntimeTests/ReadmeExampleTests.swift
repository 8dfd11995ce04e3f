import Foundation
import RoomTesting
import GRDB
@_spi(Node) import RoomRuntime
import TestSupport
import Testing

// The room class from README.md, verbatim: if this stops compiling or working, the README is wrong.

/// Counts the messages its room receives, durably.
final class HitsRoom: Room {
    static let className = "hits"

    static var migrations: RoomMigrations {
        var migrations = RoomMigrations()
        migrations.add("v1") { db in
            try db.execute(sql: "CREATE TABLE hits (seq INTEGER PRIMARY KEY, user TEXT NOT NULL)")
        }
        return migrations
    }

    private var count = 0

    init(options: NoOptions) {}

    // Created, or rehydrated after hibernation or a restart: load what you keep in memory.
    func onStart(_ activation: Activation, context: isolated RoomContext) async throws {
        count = try context.storage.kv.get("count", as: Int.self) ?? 0
    }

    func onMessage(_ message: ClientMessage, from connection: RoomConnection,
                   context: isolated RoomContext) async throws {
        let seq = try context.nextSequence()                       // gap-free, stored with the turn
        try context.storage.execute("INSERT INTO hits (seq, user) VALUES (?, ?)",
                                    arguments: [seq, connection.user])
        count += 1
        try context.storage.kv.set("count", count)
        // Sent only once this turn's writes are committed.
        context.broadcast(.text(#"{"type":"count","value":\#(count)}"#))
    }
}

@Suite("The README's room class", .watched)
struct ReadmeExampleTests {
    @Test("HitsRoom counts across hibernation")
    func counter() async throws {
        let fixture = try RuntimeFixture(
            idleTimeout: .milliseconds(50), kind: "hits", roomClass: RoomClass(HitsRoom.self))
        defer { fixture.directory.remove() }
        let (handle, client) = try fixture.connect("c1")
        await handle.receive(.text("one"))
        await handle.receive(.text("two"))
        try await client.waitFor(2, ofType: "count")
        try await eventually("hibernated") { try !fixture.runtime.info(for: fixture.address("c1")).active }
        await handle.receive(.text("three"))
        let counts = try await client.waitFor(3, ofType: "count")
        #expect(counts.map { $0["value"] as? Int } == [1, 2, 3])
        #expect(try fixture.runtime.info(for: fixture.address("c1")).lastSeq == 3)
        await fixture.stop()
    }

    // The README's RoomTesting example, verbatim.
    @Test func countsAcrossRestarts() async throws {
        var rooms = try TestRuntime(HitsRoom.self)
        let ann = try rooms.connect("c1", user: "ann")
        await ann.send("one")
        try await ann.waitFor(ofType: "count")
        try await rooms.hibernate("c1")              // leaves memory, socket kept
        rooms = try await rooms.restart()            // a new node on the same files
        #expect(try rooms.info("c1").lastSeq == 1)
        await rooms.stopAndRemove()
    }
}
