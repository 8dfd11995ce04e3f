import Foundation
import RoomTesting
import TestSupport
import Testing

@_spi(Node) @testable import RoomRuntime

@Suite("Durable schedules", .watched)
struct ScheduleTests {
    private static func fixture(
        directory: TemporaryDirectory? = nil, idleTimeout: Duration = .seconds(60)
    ) throws -> RuntimeFixture {
        try RuntimeFixture(
            directory: directory, idleTimeout: idleTimeout, kind: "sched", roomClass: RoomClass(ScheduleRoom.self))
    }

    /// Sends `command` on `handle` and waits for the `count`-th frame of type `reply`.
    @discardableResult
    private func send(
        _ command: [String: Any], on handle: ConnectionHandle, to client: RecordingTransport, awaiting reply: String
    ) async throws -> [String: Any] {
        let before = client.objects(ofType: reply).count
        await handle.receive(.text(jsonText(command)))
        return try await client.waitFor(before + 1, ofType: reply)[before]
    }

    private func list(on handle: ConnectionHandle, to client: RecordingTransport) async throws -> [String] {
        try await send(["type": "list"], on: handle, to: client, awaiting: "schedules")["names"] as? [String] ?? ["?"]
    }

    @Test("a schedule wakes a hibernated room, and its payload arrives intact")
    func firesForHibernatedRoom() async throws {
        let fixture = try Self.fixture(idleTimeout: .milliseconds(100))
        defer { fixture.directory.remove() }
        let id = uniqueID("wake")
        let address = try fixture.address(id)
        let (handle, client) = try fixture.connect(id)
        let text = "wake up ✓ \"quoted\" \\ and a\nnewline"
        // The room sets the schedule in its hibernate hook, so it exists only once the room is
        // leaving memory, however slow the machine.
        try await send(
            ["type": "arm", "name": "wake", "afterMs": 300, "text": text], on: handle, to: client, awaiting: "armed")
        try await eventually("the room hibernated") { try !fixture.runtime.info(for: address).active }
        #expect(try fixture.runtime.info(for: address).connections == 1)

        let fired = try await client.waitFor(1, ofType: "fired")[0]
        #expect(fired["name"] as? String == "wake")
        #expect(fired["text"] as? String == text)
        #expect(fired["attempt"] as? Int == 1)
        // The instance that ran the schedule was rehydrated for it: the room was out of memory.
        #expect(fired["rehydrated"] as? Bool == true)
        #expect(fired["eventsBefore"] as? Int == 0)
        let attempts = ScheduleRoom.log.entries(for: id)
        #expect(attempts.count == 1)
        #expect(attempts.allSatisfy { $0.startedAt >= $0.dueAt && $0.firedAt >= $0.dueAt })
        #expect(try fixture.runtime.info(for: address).lastSeq == 1)
        #expect(try await list(on: handle, to: client).isEmpty, "a one-shot schedule is gone once it ran")
        await fixture.stop()
    }

    @Test("a schedule that fell due while the node was down runs once a new runtime starts, with no client event")
    func firesAfterRestart() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let id = uniqueID("restart")
        let dueAt: Int64
        do {
            let fixture = try Self.fixture(directory: directory)
            let body = try await fixture.request(
                id, "POST", ["command"],
                body: jsonText(["type": "schedule", "name": "overdue", "afterMs": 1_000, "text": "late"]))
            dueAt = Int64(try #require(jsonObject(body)["dueAt"] as? Int))
            await fixture.stop()
        }
        #expect(ScheduleRoom.log.entries(for: id).isEmpty, "the first runtime stopped before the schedule was due")
        let wait = dueAt + 100 - WallClock.millisecondsSince1970()
        if wait > 0 { try await Task.sleep(for: .milliseconds(wait)) }

        // Read from the file before the second runtime starts: once it runs, the schedule may
        // fire at any moment.
        let file = StorageLayout(root: directory.url).file(of: try RoomAddress(kind: "sched", id: id))
        #expect(try RoomStorage.peekSequence(file: file) == 0)

        let fixture = try Self.fixture(directory: directory)
        let address = try fixture.address(id)
        try await eventually("the overdue schedule ran") { try fixture.runtime.info(for: address).lastSeq == 1 }
        let attempts = ScheduleRoom.log.entries(for: id)
        #expect(attempts.map(\.name) == ["overdue"])
        #expect(attempts.map(\.text) == ["late"])
        #expect(attempts.allSatisfy { $0.dueAt == dueAt && $0.firedAt > dueAt })
        let listing = jsonObject(try await fixture.request(id, "POST", ["command"], body: jsonText(["type": "list"])))
        #expect(listing["names"] as? [String] == [])
        await fixture.stop()
    }

    @Test("a handler that keeps failing is retried with doubling backoff, then given up")
    func retriesBackOffAndStop() async throws {
        let fixture = try Self.fixture()
        defer { fixture.directory.remove() }
        let id = uniqueID("retry")
        let (handle, client) = try fixture.connect(id)
        try await send(
            ["type": "schedule", "name": "flaky", "afterMs": 0, "mode": "fail", "firstRetryMs": 50, "maxRetries": 3],
            on: handle, to: client, awaiting: "scheduled")
        try await eventually("four attempts") { ScheduleRoom.log.entries(for: id).count >= 4 }
        // Queued behind the fourth attempt, so it sees what that attempt left.
        #expect(try await list(on: handle, to: client).isEmpty, "the schedule is dropped once its retries are spent")
        // A fifth attempt would come 400 ms after the fourth: wait three times the last backoff.
        try await Task.sleep(for: .milliseconds(600))

        let attempts = ScheduleRoom.log.entries(for: id)
        #expect(attempts.map(\.attempt) == [1, 2, 3, 4])
        for (index, (earlier, later)) in zip(attempts, attempts.dropFirst()).enumerated() {
            let backoff = Int64(50 << index)
            #expect(later.startedAt - earlier.startedAt >= backoff, "attempt \(later.attempt) came too soon")
            #expect(later.startedAt - earlier.endedAt >= backoff, "attempt \(later.attempt) came too soon after the failure")
            #expect(later.dueAt >= earlier.endedAt + backoff)
        }
        #expect(client.objects(ofType: "fired").isEmpty)
        #expect(client.objects(ofType: "error").isEmpty, "a failing schedule reports to no client")
        #expect(try fixture.runtime.info(for: fixture.address(id)).lastSeq == 0, "failed attempts store nothing")
        await fixture.stop()
    }

    @Test("the backoff counts from the end of the failed attempt, so a slow failure is not retried at once")
    func backoffAfterSlowFailure() async throws {
        let fixture = try Self.fixture()
        defer { fixture.directory.remove() }
        let id = uniqueID("slow-fail")
        let (handle, client) = try fixture.connect(id)
        try await send(
            [
                "type": "schedule", "name": "slow", "afterMs": 0, "mode": "fail", "sleepMs": 150, "firstRetryMs": 100,
                "maxRetries": 1,
            ], on: handle, to: client, awaiting: "scheduled")
        try await eventually("two attempts") { ScheduleRoom.log.entries(for: id).count >= 2 }
        let attempts = ScheduleRoom.log.entries(for: id)
        #expect(attempts.map(\.attempt) == [1, 2])
        #expect(attempts[1].startedAt - attempts[0].endedAt >= 100)
        #expect(try await list(on: handle, to: client).isEmpty)
        await fixture.stop()
    }

    @Test("a handler that fails twice then succeeds runs with attempt 3, and the schedule is then gone")
    func succeedsOnThirdAttempt() async throws {
        let fixture = try Self.fixture()
        defer { fixture.directory.remove() }
        let id = uniqueID("third-time")
        let (handle, client) = try fixture.connect(id)
        try await send(
            [
                "type": "schedule", "name": "lucky", "afterMs": 0, "mode": "fail-twice", "text": "done",
                "firstRetryMs": 30, "maxRetries": 5,
            ], on: handle, to: client, awaiting: "scheduled")
        let fired = try await client.waitFor(1, ofType: "fired")[0]
        #expect(fired["attempt"] as? Int == 3)
        #expect(fired["text"] as? String == "done")
        #expect(try await list(on: handle, to: client).isEmpty)
        // A fourth attempt would come 120 ms after the third.
        try await Task.sleep(for: .milliseconds(400))
        #expect(ScheduleRoom.log.entries(for: id).map(\.attempt) == [1, 2, 3])
        #expect(client.objects(ofType: "fired").count == 1)
        #expect(try fixture.runtime.info(for: fixture.address(id)).lastSeq == 1)
        await fixture.stop()
    }

    @Test("setting a schedule of the same name replaces it: one schedule, one firing, the second payload")
    func replacingByName() async throws {
        let fixture = try Self.fixture()
        defer { fixture.directory.remove() }
        let id = uniqueID("replace")
        let (handle, client) = try fixture.connect(id)
        try await send(
            ["type": "schedule", "name": "x", "afterMs": 800, "text": "first"], on: handle, to: client,
            awaiting: "scheduled")
        try await send(
            ["type": "schedule", "name": "x", "afterMs": 800, "text": "second"], on: handle, to: client,
            awaiting: "scheduled")
        let listing = try await send(["type": "list"], on: handle, to: client, awaiting: "schedules")
        #expect(listing["names"] as? [String] == ["x"])
        #expect(listing["texts"] as? [String] == ["second"])

        let fired = try await client.waitFor(1, ofType: "fired")[0]
        #expect(fired["text"] as? String == "second")
        // A leftover of the first would have been due before the second.
        try await Task.sleep(for: .milliseconds(300))
        #expect(client.objects(ofType: "fired").count == 1)
        #expect(ScheduleRoom.log.entries(for: id).map(\.text) == ["second"])
        await fixture.stop()
    }

    @Test("a repeating schedule never overlaps itself, and skips the runs it missed while busy")
    func everyNeverOverlaps() async throws {
        let fixture = try Self.fixture()
        defer { fixture.directory.remove() }
        let id = uniqueID("every")
        let (handle, client) = try fixture.connect(id)
        try await send(
            ["type": "schedule", "name": "tick", "everyMs": 20, "sleepMs": 60], on: handle, to: client,
            awaiting: "scheduled")
        try await eventually("four runs") { ScheduleRoom.log.entries(for: id).count >= 4 }
        let cancelled = try await send(["type": "cancel", "name": "tick"], on: handle, to: client, awaiting: "cancelled")
        #expect(cancelled["result"] as? Bool == true)
        let runs = ScheduleRoom.log.entries(for: id)
        try await Task.sleep(for: .milliseconds(200))
        #expect(ScheduleRoom.log.entries(for: id).count == runs.count, "no run after the cancel")

        #expect(runs.count >= 3)
        #expect(runs.allSatisfy { $0.attempt == 1 && $0.endedAt - $0.startedAt >= 60 })
        for (earlier, later) in zip(runs, runs.dropFirst()) {
            #expect(later.startedAt >= earlier.endedAt, "runs overlap")
            #expect(later.dueAt > earlier.dueAt)
            #expect((later.dueAt - earlier.dueAt) % 20 == 0, "runs stay on the schedule's grid")
            // The due times that passed while the previous run was busy are skipped, not replayed.
            #expect(later.dueAt >= earlier.endedAt, "a run missed while busy was replayed")
        }
        #expect(client.objects(ofType: "fired").count == runs.count)
        await fixture.stop()
    }

    @Test("a schedule whose handler waits on a call to another room is not run again while it waits")
    func handlerWaitingOnACallRunsOnce() async throws {
        let fixture = try RuntimeFixture(
            kind: "sched", roomClass: RoomClass(ScheduleRoom.self),
            extraKinds: [try RoomKind(name: "calls", roomClass: RoomClass(CallRoom.self))])
        defer { fixture.directory.remove() }
        let id = uniqueID("calling")
        let (handle, client) = try fixture.connect(id)
        try await send(
            ["type": "schedule", "name": "once", "afterMs": 0, "mode": "call", "sleepMs": 300, "text": "called"],
            on: handle, to: client, awaiting: "scheduled")
        try await client.waitFor(1, ofType: "fired")
        // A second run would start while the first waits (300 ms) or soon after.
        try await Task.sleep(for: .milliseconds(600))
        let runs = ScheduleRoom.log.entries(for: id)
        #expect(runs.count == 1)
        #expect(client.objects(ofType: "fired").count == 1)
        #expect(try fixture.runtime.info(for: fixture.address(id)).lastSeq == 1)
        #expect(try await list(on: handle, to: client).isEmpty)
        await fixture.stop()
    }

    @Test("a cancelled schedule never fires; cancelling an unknown name returns false")
    func cancel() async throws {
        let fixture = try Self.fixture()
        defer { fixture.directory.remove() }
        let id = uniqueID("cancel")
        let (handle, client) = try fixture.connect(id)
        // Far enough ahead that the five round trips before the listing end first, even on a
        // loaded machine (a CI run once took over 6 s for them, and "kept" had fired already).
        try await send(
            ["type": "schedule", "name": "doomed", "afterMs": 12_000], on: handle, to: client, awaiting: "scheduled")
        try await send(
            ["type": "schedule", "name": "kept", "afterMs": 12_100], on: handle, to: client, awaiting: "scheduled")
        let first = try await send(["type": "cancel", "name": "doomed"], on: handle, to: client, awaiting: "cancelled")
        #expect(first["result"] as? Bool == true)
        let again = try await send(["type": "cancel", "name": "doomed"], on: handle, to: client, awaiting: "cancelled")
        #expect(again["result"] as? Bool == false)
        let unknown = try await send(
            ["type": "cancel", "name": "never-set"], on: handle, to: client, awaiting: "cancelled")
        #expect(unknown["result"] as? Bool == false)
        #expect(try await list(on: handle, to: client) == ["kept"])

        try await client.waitFor(1, ofType: "fired", timeout: .seconds(30))
        try await Task.sleep(for: .milliseconds(300))
        #expect(client.objects(ofType: "fired").map { $0["name"] as? String } == ["kept"])
        #expect(ScheduleRoom.log.entries(for: id).map(\.name) == ["kept"])
        await fixture.stop()
    }

    @Test("a schedule cancelled by the handler of another schedule due at the same time does not fire")
    func cancelledWithinTheSameBatch() async throws {
        let fixture = try Self.fixture()
        defer { fixture.directory.remove() }
        let id = uniqueID("batch-cancel")
        // Both set in one turn and already due, so they fire in one batch, "first" (the earlier)
        // before "second": "first" cancels "second".
        let now = Int(WallClock.millisecondsSince1970())
        _ = try await fixture.request(
            id, "POST", ["command"],
            body: jsonText([
                "type": "many",
                "commands": [
                    ["type": "schedule", "name": "first", "atMs": now - 20, "cancels": "second"],
                    ["type": "schedule", "name": "second", "atMs": now - 10],
                ],
            ]))
        try await eventually("the first schedule ran") { !ScheduleRoom.log.entries(for: id).isEmpty }
        try await Task.sleep(for: .milliseconds(300))
        #expect(ScheduleRoom.log.entries(for: id).map(\.name) == ["first"])
        #expect(try fixture.runtime.info(for: fixture.address(id)).lastSeq == 1)
        await fixture.stop()
    }

    @Test("invalid schedules are refused with invalid_schedule and store nothing")
    func garbageIsRefused() async throws {
        let fixture = try Self.fixture()
        defer { fixture.directory.remove() }
        let id = uniqueID("garbage")
        let (handle, client) = try fixture.connect(id)
        try await client.waitFor(1, ofType: "welcome")
        let later = 3_600_000
        let garbage: [[String: Any]] = [
            ["name": "", "afterMs": later],
            ["name": "_rooms.snapshot", "afterMs": later],
            ["name": "_rooms.mine", "afterMs": later],
            ["name": String(repeating: "a", count: 257), "afterMs": later],
            ["name": String(repeating: "é", count: 129), "afterMs": later],  // 129 characters, 258 bytes
            ["name": "negative", "afterMs": -1],
            ["name": "zero-interval", "everyMs": 0],
            ["name": "negative-interval", "everyMs": -20],
            ["name": "huge", "afterMs": later, "payloadBytes": 65_537],
            ["name": "retries", "afterMs": later, "maxRetries": -1],
            ["name": "no-delay", "afterMs": later, "firstRetryMs": 0],
        ]
        for command in garbage {
            await handle.receive(.text(jsonText(command.merging(["type": "schedule"]) { old, _ in old })))
        }
        let errors = try await client.waitFor(garbage.count, ofType: "error")
        #expect(errors.map { $0["code"] as? String } == Array(repeating: "invalid_schedule", count: garbage.count))
        #expect(try await list(on: handle, to: client).isEmpty)
        #expect(client.objects(ofType: "scheduled").isEmpty)

        // The limits themselves are allowed.
        let longName = String(repeating: "é", count: 128)  // 256 bytes
        try await send(
            ["type": "schedule", "name": longName, "afterMs": later], on: handle, to: client, awaiting: "scheduled")
        try await send(
            ["type": "schedule", "name": "big", "afterMs": later, "payloadBytes": 65_536], on: handle, to: client,
            awaiting: "scheduled")
        #expect(try await list(on: handle, to: client).sorted() == ["big", longName].sorted())
        #expect(client.objects(ofType: "error").count == garbage.count)
        await fixture.stop()
    }
}
