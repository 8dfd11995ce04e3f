import Foundation
import GRDB
import RoomTesting
import TestSupport
import Testing

@_spi(Node) @testable import RoomRuntime

@Suite("Warm databases: hibernated rooms keep their file open for the next activation", .watched)
struct WarmDatabaseTests {
    /// Posts `text` to room `id` (creating it) and waits until the room hibernated.
    func storeAndHibernate(_ text: String, in id: String, _ fixture: RuntimeFixture) async throws -> RoomAddress {
        _ = try await fixture.request(id, "POST", [], body: text)
        let address = try fixture.address(id)
        try await eventually("room hibernated") { try !fixture.runtime.info(for: address).active }
        return address
    }

    @Test("a hibernated room keeps its database open, and wakes from it as a new room object with its state")
    func wakesFromWarmDatabase() async throws {
        let fixture = try RuntimeFixture(idleTimeout: .milliseconds(100))
        defer { fixture.directory.remove() }
        let rooms = fixture.directory.url.appendingPathComponent("rooms")
        let (handle, client) = try fixture.connect("r1")
        await handle.receive(.text("note:hello"))
        try await client.waitFor(1, ofType: "note")
        let address = try fixture.address("r1")
        try await eventually("room hibernated") { try !fixture.runtime.info(for: address).active }

        #expect(fixture.runtime.warmDatabaseCount == 1)
        #expect(fixture.runtime.openDatabaseCount == 1)
        let open = descriptors(under: rooms)
        #expect(open.contains { $0.hasSuffix(".sqlite") }, "\(open)")

        await handle.receive(.text("count"))
        let count = try await client.waitFor(1, ofType: "count")[0]
        #expect(count["notes"] as? Int == 1)
        #expect(count["starts"] as? [String] == ["created", "rehydrated"])
        #expect(count["lastSequence"] as? Int == 1)
        // The woken room took its database back rather than open its file a second time.
        #expect(fixture.runtime.peakOpenDatabaseCount == 1)
        #expect(fixture.runtime.openDatabaseCount == 1)
        await fixture.stop()
        #expect(descriptors(under: rooms).isEmpty, "stopping closes every database, warm ones included")
    }

    @Test("a warm database closes warmSeconds after its room hibernated, and the room still wakes from its file")
    func expires() async throws {
        // Long enough that a loaded machine sees the database parked before it expires (300 ms
        // was not, once, on a clean-clone CI run).
        let fixture = try RuntimeFixture(idleTimeout: .milliseconds(50), warmTimeout: .seconds(3))
        defer { fixture.directory.remove() }
        let rooms = fixture.directory.url.appendingPathComponent("rooms")
        _ = try await storeAndHibernate("zz", in: "sleepy", fixture)
        #expect(fixture.runtime.warmDatabaseCount == 1)
        // The warm count drops when the database leaves the list, the open count once it closed.
        try await eventually("the warm database closed") {
            fixture.runtime.warmDatabaseCount == 0 && fixture.runtime.openDatabaseCount == 0
        }
        #expect(descriptors(under: rooms).isEmpty)
        #expect(try await fixture.request("sleepy", "GET", []) == #"["zz"]"#)
        await fixture.stop()
    }

    @Test("at most warmDatabases stay open; the others close at hibernation")
    func boundedByCapacity() async throws {
        let fixture = try RuntimeFixture(idleTimeout: .milliseconds(50), warmDatabases: 2)
        defer { fixture.directory.remove() }
        let rooms = fixture.directory.url.appendingPathComponent("rooms")
        for index in 0..<5 {
            _ = try await fixture.request("r\(index)", "POST", [], body: "n\(index)")
        }
        try await eventually("every room hibernated") { fixture.runtime.activeRoomCount == 0 }
        #expect(fixture.runtime.warmDatabaseCount == 2)
        #expect(fixture.runtime.openDatabaseCount == 2)
        #expect(Set(descriptors(under: rooms).filter { $0.hasSuffix(".sqlite") }).count == 2)
        // Each room wakes with what it stored, whether its database was warm or closed.
        for index in 0..<5 {
            #expect(try await fixture.request("r\(index)", "GET", []) == #"["n\#(index)"]"#)
        }
        await fixture.stop()
    }

    @Test("warm databases give way to rooms that need a file: the open-database budget holds")
    func budgetHolds() async throws {
        let budget = 3
        let fixture = try RuntimeFixture(idleTimeout: .milliseconds(30), maxOpenDatabases: budget, warmDatabases: 100)
        defer { fixture.directory.remove() }
        let rooms = fixture.directory.url.appendingPathComponent("rooms")
        for round in 0..<2 {
            for index in 0..<8 {
                _ = try await fixture.request("r\(index)", "POST", [], body: "n\(round)")
                let files = Set(descriptors(under: rooms).filter { $0.hasSuffix(".sqlite") }).count
                #expect(files <= budget, "\(files) room files open; the budget is \(budget)")
                #expect(fixture.runtime.openDatabaseCount <= budget)
            }
        }
        #expect(fixture.runtime.peakOpenDatabaseCount <= budget)
        try await eventually("every room hibernated") { fixture.runtime.activeRoomCount == 0 }
        #expect(fixture.runtime.warmDatabaseCount == budget, "the parked databases fill the budget, no more")
        for index in 0..<8 {
            #expect(try await fixture.request("r\(index)", "GET", []) == #"["n0","n1"]"#)
        }
        await fixture.stop()
    }

    @Test("deleting a hibernated room closes its warm database before its files go")
    func deletionClosesWarmDatabase() async throws {
        let fixture = try RuntimeFixture(idleTimeout: .milliseconds(50))
        defer { fixture.directory.remove() }
        let rooms = fixture.directory.url.appendingPathComponent("rooms")
        let address = try await storeAndHibernate("bye", in: "gone", fixture)
        #expect(fixture.runtime.warmDatabaseCount == 1)

        #expect(try await fixture.runtime.delete(address))
        #expect(fixture.runtime.warmDatabaseCount == 0)
        #expect(fixture.runtime.openDatabaseCount == 0)
        #expect(descriptors(under: rooms).isEmpty)
        let file = fixture.runtime.layout.file(of: address)
        for suffix in ["", "-wal", "-shm"] {
            #expect(!FileManager.default.fileExists(atPath: file.path + suffix), "\(suffix) left behind")
        }
        // Created afresh, empty.
        #expect(try await fixture.request("gone", "GET", []) == "[]")
        await fixture.stop()
    }

    @Test("closing at hibernation does not checkpoint: the writes wait in the WAL, and the room wakes with them")
    func hibernationSkipsCheckpoint() async throws {
        let fixture = try RuntimeFixture(idleTimeout: .milliseconds(50), warmDatabases: 0)
        defer { fixture.directory.remove() }
        let address = try fixture.address("w")
        for text in ["one", "two", "three"] {
            _ = try await fixture.request("w", "POST", [], body: text)
        }
        try await eventually("room hibernated") { try !fixture.runtime.info(for: address).active }
        #expect(fixture.runtime.openDatabaseCount == 0)

        // The database file alone (without its -wal) does not hold the last writes yet.
        let file = fixture.runtime.layout.file(of: address)
        let copy = fixture.directory.url.appendingPathComponent("copy.sqlite")
        try FileManager.default.copyItem(at: file, to: copy)
        let alone = try DatabaseQueue(path: copy.path)
        let stored = try await alone.read { db in
            try db.tableExists("_rooms_meta")
                ? Int.fetchOne(db, sql: "SELECT value FROM _rooms_meta WHERE key = 'sequence'") ?? 0 : 0
        }
        try alone.close()
        #expect(stored < 3, "the file alone holds sequence \(stored): hibernation checkpointed")

        #expect(try await fixture.request("w", "GET", []) == #"["one","two","three"]"#)
        await fixture.stop()
    }
}
