import Foundation
import RoomTesting
import GRDB
import NIOCore
import Synchronization
import TestSupport
import Testing

@_spi(Node) @testable import RoomRuntime

/// A room whose hibernate hook is slow, so that events arrive while it is leaving.
final class SlowHibernateRoom: Room {
    static let className = "slow-hibernate"
    init(options: NoOptions) {}

    func onRequest(_ request: RoomRequest, context: isolated RoomContext) async throws -> RoomResponse {
        RoomResponse(status: 200)
    }

    /// Holds hibernation until the test opens it (bounded, so that a failing test ends).
    static let gate = Flag()

    func onHibernate(context: isolated RoomContext) async throws {
        let deadline = ContinuousClock.now + .seconds(20)
        while !Self.gate.isSet, ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(5))
        }
    }
}

/// A room that catches an error after which SQLite rolled back the whole transaction, and writes on.
final class RollbackRoom: Room {
    static let className = "rollback"

    static var migrations: RoomMigrations {
        var migrations = RoomMigrations()
        migrations.add("v1") { db in try db.execute(sql: "CREATE TABLE t (id INTEGER PRIMARY KEY)") }
        return migrations
    }

    init(options: NoOptions) {}

    func onRequest(_ request: RoomRequest, context: isolated RoomContext) async throws -> RoomResponse {
        if request.path == ["count"] {
            let count = try context.storage.fetchOne("SELECT count(*) AS n FROM t")?["n"] as Int? ?? 0
            return try .json(["n": count])
        }
        try context.storage.execute("INSERT INTO t VALUES (1)")
        // A conflict with OR ROLLBACK makes SQLite roll back the whole transaction.
        try? context.storage.execute("INSERT OR ROLLBACK INTO t VALUES (1)")
        try context.storage.execute("INSERT INTO t VALUES (2)")
        return RoomResponse(status: 200)
    }
}

final class Flag: Sendable {
    private let value = Mutex(false)
    func set() { value.withLock { $0 = true } }
    var isSet: Bool { value.withLock { $0 } }
}

final class Tally: Sendable {
    private let value = Mutex(0)
    func add() { value.withLock { $0 += 1 } }
    var count: Int { value.withLock { $0 } }
}

@Suite("Races the review found", .watched)
struct RaceTests {
    @Test("a room asked to leave for capacity, woken while leaving, gives its place to the waiting room")
    func capacityVictimWokenWhileLeaving() async throws {
        let fixture = try RuntimeFixture(
            maxActiveRooms: 1, kind: "slow-hibernate", roomClass: RoomClass(SlowHibernateRoom.self))
        defer { fixture.directory.remove() }
        let a = try fixture.address("a")
        let b = try fixture.address("b")
        _ = try await fixture.runtime.request(RoomRequest(method: "GET", path: []), to: a)
        let bAnswered = Flag()
        let bTask = Task {
            _ = try? await fixture.runtime.request(RoomRequest(method: "GET", path: []), to: b)
            bAnswered.set()
        }
        try await eventually("b waits for a place") { fixture.runtime.activeRooms.waiting == 1 }
        // A is held in its hibernate hook; an event for it arrives meanwhile.
        let aTask = Task { try await fixture.runtime.request(RoomRequest(method: "GET", path: []), to: a) }
        try await Task.sleep(for: .milliseconds(50))
        SlowHibernateRoom.gate.set()
        try await eventually("b gets in (the idle timeout is 60 s)") { bAnswered.isSet }
        _ = await bTask.value
        _ = try await aTask.value
        await fixture.stop()
    }

    @Test("after SQLite rolls back the whole transaction, later writes of the turn are refused, not autocommitted")
    func noAutocommitAfterLostTransaction() async throws {
        let fixture = try RuntimeFixture(kind: "rollback", roomClass: RoomClass(RollbackRoom.self))
        defer { fixture.directory.remove() }
        let room = try fixture.address("r")
        let error = await #expect(throws: RoomError.self) {
            try await fixture.runtime.request(RoomRequest(method: "POST", path: []), to: room)
        }
        #expect(error?.code == .storageFailed)
        let count = try await fixture.runtime.request(RoomRequest(method: "GET", path: ["count"]), to: room)
        #expect(String(buffer: count.body) == #"{"n":0}"#)
        await fixture.stop()
    }

    @Test("requests racing shutdown are all answered")
    func requestsRacingShutdown() async throws {
        for round in 0..<10 {
            let directory = try TemporaryDirectory()
            defer { directory.remove() }
            var configuration = RuntimeConfiguration(
                dataDirectory: directory.url,
                kinds: [try RoomKind(name: "notes", roomClass: RoomClass(NotesRoom.self))])
            configuration.shardCount = 2
            let runtime = try RoomRuntime(configuration: configuration)
            let answered = Tally()
            let requests = 64
            for index in 0..<requests {
                Task.detached {
                    _ = try? await runtime.request(
                        RoomRequest(method: "GET", path: []), to: runtime.address(kind: "notes", id: "r\(round)-\(index)"))
                    answered.add()
                }
            }
            await runtime.shutdown()
            try await eventually("every request answered (\(answered.count) of \(requests))") {
                answered.count == requests
            }
        }
    }

    @Test("an address of a kind the node does not serve is refused, not a crash")
    func unconfiguredKind() async throws {
        let fixture = try RuntimeFixture()
        defer { fixture.directory.remove() }
        let elsewhere = try RoomAddress(kind: "other", id: "x")
        let error = #expect(throws: RoomError.self) {
            try fixture.runtime.connect(to: elsewhere, user: "ann", transport: RecordingTransport())
        }
        #expect(error?.code == .unknownKind)
        await #expect(throws: RoomError.self) {
            try await fixture.runtime.request(RoomRequest(method: "GET", path: []), to: elsewhere)
        }
        await fixture.stop()
    }

    @Test("connections racing a DELETE are closed with 4404 or kept, never with 1011")
    func connectsRacingDelete() async throws {
        let fixture = try RuntimeFixture()
        defer { fixture.directory.remove() }
        var clients: [RecordingTransport] = []
        for round in 0..<30 {
            let id = "deleted-\(round)"
            let (first, firstClient) = try fixture.connect(id)
            await first.receive(.text("note:x"))
            try await firstClient.waitFor(1, ofType: "note")
            let deleting = Task { try await fixture.runtime.delete(fixture.address(id)) }
            for _ in 0..<8 {
                let (_, client) = try fixture.connect(id)
                clients.append(client)
                await Task.yield()
            }
            _ = try await deleting.value
        }
        for client in clients {
            try await eventually("a welcome or an error") { !client.frames.isEmpty }
            #expect(client.closeCode != .internalError, "\(client.frames)")
            if let code = client.closeCode {
                #expect(code == .roomDeleted, "\(client.frames)")
                #expect(client.objects(ofType: "error").last?["code"] as? String == "room_deleted")
            }
        }
        await fixture.stop()
    }

    @Test("connections racing shutdown are closed with 1001, never with 1011")
    func connectsRacingShutdown() async throws {
        for round in 0..<10 {
            let directory = try TemporaryDirectory()
            defer { directory.remove() }
            let fixture = try RuntimeFixture(directory: directory)
            let (handle, client) = try fixture.connect("busy-\(round)")
            await handle.receive(.text("note:x"))
            try await client.waitFor(1, ofType: "note")
            var clients: [RecordingTransport] = []
            let stopping = Task { await fixture.runtime.shutdown() }
            for _ in 0..<16 {
                let transport = RecordingTransport()
                do {
                    _ = try fixture.runtime.connect(
                        to: fixture.address("busy-\(round)"), user: "bob", transport: transport)
                    clients.append(transport)
                } catch let error as RoomError {
                    #expect(error.code == .shuttingDown)
                }
                await Task.yield()
            }
            await stopping.value
            for client in clients {
                #expect(client.closeCode != .internalError, "\(client.frames)")
                if let code = client.closeCode {
                    #expect(code == .goingAway, "\(client.frames)")
                }
            }
            await fixture.stop()
        }
    }

    @Test(
        "a connection the node refuses is closed with the code its error calls for, in every path",
        arguments: [
            (RoomRuntime.shuttingDown, CloseCode.goingAway),
            (RoomRuntime.deleted, CloseCode.roomDeleted),
            (RoomRuntime.quarantined, CloseCode.internalError),
            (RoomError.unavailable(.storageFailed, "x"), CloseCode.internalError),
            (RoomError.badRequest("not_a_member", "x"), CloseCode.policyViolation),
        ])
    func refusalCloseCodes(error: RoomError, code: CloseCode) {
        // Refused before its turn (the event is rejected from the mailbox) ...
        let queued = RecordingTransport()
        RoomEvent.connect(RoomConnection(user: "ann", transport: queued)).reject(with: error)
        #expect(queued.closeCode == code)
        #expect(queued.objects(ofType: "error").first?["code"] as? String == error.code.rawValue)
        // ... or by its turn (onConnect threw, or the commit failed).
        let refused = RecordingTransport()
        let shard = Shard(index: 0)
        defer { shard.shutdown() }
        let slot = RoomSlot(
            address: try! RoomAddress(kind: "notes", id: "r"),
            kind: try! RoomKind(name: "notes", roomClass: RoomClass(NotesRoom.self)), shard: shard, mailboxLimit: 10)
        let connection = RoomConnection(user: "ann", transport: refused)
        slot.addConnection(connection)
        FinishedTurn(origin: .connect(connection), output: [], failure: error, frameID: nil, wrote: false).complete(in: slot)
        #expect(refused.closeCode == code)
        #expect(!slot.contains(connection))
    }
}
