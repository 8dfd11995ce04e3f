import Foundation
import RoomTesting
import TestSupport
import Testing

@_spi(Node) @testable import RoomRuntime

@Suite("Calls between rooms", .watched)
struct CallTests {
    private static func fixture(idleTimeout: Duration = .seconds(60)) throws -> RuntimeFixture {
        try RuntimeFixture(idleTimeout: idleTimeout, shards: 2, kind: "calls", roomClass: RoomClass(CallRoom.self))
    }

    /// Two fresh room ids whose rooms live on different shards.
    private func idsOnTwoShards(_ fixture: RuntimeFixture, _ name: String) throws -> (String, String) {
        let first = uniqueID("\(name)-a")
        let shard = fixture.runtime.router.shard(for: try fixture.address(first)).index
        for _ in 0..<100 {
            let second = uniqueID("\(name)-b")
            if fixture.runtime.router.shard(for: try fixture.address(second)).index != shard { return (first, second) }
        }
        throw TimedOut(description: "no id on the other shard")
    }

    private func relay(_ body: String) throws -> (CallRoom.Relay, [String: Any]) {
        let relay = try JSONDecoder().decode(CallRoom.Relay.self, from: Data(body.utf8))
        return (relay, jsonObject(relay.reply))
    }

    @Test("a room calls a room on another shard, which wakes from hibernation to answer")
    func callAcrossShards() async throws {
        let fixture = try Self.fixture(idleTimeout: .milliseconds(100))
        defer { fixture.directory.remove() }
        let (a, b) = try idsOnTwoShards(fixture, "across")
        _ = try await fixture.request(b, "POST", ["touch"])
        try await eventually("b hibernated") { try !fixture.runtime.info(for: fixture.address(b)).active }

        let (relay, echo) = try relay(try await fixture.request(a, "GET", ["call", b, "echo"]))
        #expect(relay.me == a)
        #expect(relay.status == 200)
        #expect(echo["me"] as? String == b)
        #expect(echo["caller"] as? String == a)
        #expect(echo["activations"] as? [String] == ["created", "rehydrated"])
        await fixture.stop()
    }

    @Test("two rooms calling each other at the same time both get their answers")
    func crossingCalls() async throws {
        let fixture = try Self.fixture()
        defer { fixture.directory.remove() }
        let (a, b) = try idsOnTwoShards(fixture, "crossing")
        for _ in 0..<20 {
            async let fromA = fixture.request(a, "GET", ["call", b, "echo"])
            async let fromB = fixture.request(b, "GET", ["call", a, "echo"])
            let (relayA, echoB) = try relay(try await fromA)
            let (relayB, echoA) = try relay(try await fromB)
            #expect(relayA.me == a && echoB["me"] as? String == b && echoB["caller"] as? String == a)
            #expect(relayB.me == b && echoA["me"] as? String == a && echoA["caller"] as? String == b)
        }
        await fixture.stop()
    }

    @Test("a call that calls back into the waiting room is answered (A calls B, which calls A)")
    func callBack() async throws {
        let fixture = try Self.fixture()
        defer { fixture.directory.remove() }
        let (a, b) = try idsOnTwoShards(fixture, "callback")
        let (outer, middle) = try relay(try await fixture.request(a, "GET", ["call", b, "call", a, "echo"]))
        #expect(outer.me == a)
        #expect(middle["me"] as? String == b)
        let inner = jsonObject(middle["reply"] as? String ?? "")
        #expect(inner["me"] as? String == a)
        #expect(inner["caller"] as? String == b)
        await fixture.stop()
    }

    @Test("a room that calls itself gets its own answer")
    func callSelf() async throws {
        let fixture = try Self.fixture()
        defer { fixture.directory.remove() }
        let a = uniqueID("self")
        let (relay, echo) = try relay(try await fixture.request(a, "GET", ["call", a, "echo"]))
        #expect(relay.me == a)
        #expect(echo["me"] as? String == a)
        #expect(echo["caller"] as? String == a)
        await fixture.stop()
    }

    @Test("a call with no answer in time fails with call_timeout, and both rooms stay usable")
    func callTimeout() async throws {
        let fixture = try Self.fixture()
        defer { fixture.directory.remove() }
        let (a, b) = try idsOnTwoShards(fixture, "timeout")
        // b answers only once the test lets it.
        let gate = uniqueID("gate")
        let error = await #expect(throws: RoomError.self) {
            try await fixture.request(a, "GET", ["call", b, "wait", gate], query: ["timeoutMs": "200"])
        }
        #expect(error?.code == .callTimeout)
        #expect(error?.category == .unavailable)
        #expect(error?.message.contains("calls/\(b)") == true)

        // The caller is free again while the callee still waits.
        let echo = jsonObject(try await fixture.request(a, "GET", ["echo"]))
        #expect(echo["me"] as? String == a)
        // The callee's late answer goes nowhere; a new call gets a fresh one.
        CallRoom.open(gate)
        let (relay, echoB) = try relay(try await fixture.request(a, "GET", ["call", b, "echo"]))
        #expect(relay.me == a)
        #expect(echoB["me"] as? String == b)
        #expect(echoB["caller"] as? String == a)
        await fixture.stop()
    }

    @Test("at the active-room cap, a room waiting in a call gives its place to the room it calls")
    func callAtCapacity() async throws {
        let fixture = try RuntimeFixture(maxActiveRooms: 1, kind: "calls", roomClass: RoomClass(CallRoom.self))
        defer { fixture.directory.remove() }
        // The caller holds the only place; waiting in its call, it lends it to the callee.
        let body = try await fixture.request("a", "GET", ["call", "b", "echo"], query: ["timeoutMs": "10000"])
        let (relay, echoB) = try relay(body)
        #expect(relay.me == "a")
        #expect(echoB["me"] as? String == "b")
        // Back under the cap once the call is over: the next activation evicts.
        #expect(jsonObject(try await fixture.request("c", "GET", ["echo"]))["me"] as? String == "c")
        try await eventually("the cap holds again") { fixture.runtime.activeRoomCount <= 1 }
        #expect(jsonObject(try await fixture.request("a", "GET", ["echo"]))["me"] as? String == "a")
        await fixture.stop()
    }

    @Test("what a room sends in the turns it serves while waiting in a call is sent exactly once")
    func framesDuringCallSentOnce() async throws {
        let fixture = try Self.fixture()
        defer { fixture.directory.remove() }
        let (a, b) = try idsOnTwoShards(fixture, "once")
        let gate = uniqueID("gate")
        let pending = Task { try await fixture.request(a, "GET", ["call", b, "wait", gate]) }
        try await eventually("b waits") { !CallRoom.waiting.entries(for: gate).isEmpty }

        // a waits in its call: it serves a connection and its messages as turns meanwhile.
        let (handle, client) = try fixture.connect(a)
        await handle.receive(.text("echo:1"))
        try await client.waitFor(1, ofType: "echo")
        CallRoom.open(gate)
        let (relay, _) = try relay(try await pending.value)
        #expect(relay.me == a)
        await handle.receive(.text("echo:2"))
        try await client.waitFor(2, ofType: "echo")
        // Let anything sent twice arrive before counting.
        _ = try await fixture.request(a, "GET", ["echo"])
        #expect(client.objects(ofType: "welcome").count == 1, "\(client.frames)")
        #expect(client.objects(ofType: "echo").map { $0["text"] as? String } == ["1", "2"], "\(client.frames)")
        #expect(client.objects(ofType: "said").map { $0["text"] as? String } == ["1", "2"], "\(client.frames)")
        await fixture.stop()
    }

    @Test("the open-database budget holds while more rooms wait in calls than it allows")
    func databaseBudgetHoldsDuringCalls() async throws {
        let budget = 3
        let fixture = try RuntimeFixture(
            maxOpenDatabases: budget, kind: "calls", roomClass: RoomClass(CallRoom.self))
        defer { fixture.directory.remove() }
        // Every room exists on disk, so that each one open holds its file.
        for index in 0..<8 {
            _ = try await fixture.request("caller-\(index)", "POST", ["touch"])
            _ = try await fixture.request("callee-\(index)", "POST", ["touch"])
        }
        let rooms = fixture.directory.url.appendingPathComponent("rooms")
        let sampling = Task { () -> Int in
            var peak = 0
            while !Task.isCancelled {
                let files = Set(descriptors(under: rooms).filter { $0.hasSuffix(".sqlite") })
                peak = max(peak, files.count)
                try? await Task.sleep(for: .milliseconds(1))
            }
            return peak
        }
        // Eight callers, each calling a room of its own that takes a while to answer.
        let replies = try await withThrowingTaskGroup(of: String.self) { group in
            for index in 0..<8 {
                group.addTask {
                    try await fixture.request(
                        "caller-\(index)", "GET", ["call", "callee-\(index)", "sleep", "150"],
                        query: ["timeoutMs": "30000"])
                }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        sampling.cancel()
        let peak = await sampling.value
        #expect(replies.count == 8)
        for body in replies {
            let (relay, reply) = try relay(body)
            #expect(relay.status == 200)
            #expect(reply["slept"] as? Int == 150, "\(relay.me): \(relay.reply)")
        }
        #expect(peak <= budget, "\(peak) room databases were open at once; the budget is \(budget)")
        #expect(peak >= 1, "the sampling saw no database at all")
        // The gauge counts open files, not rooms in memory.
        #expect(fixture.runtime.peakOpenDatabaseCount <= budget)
        #expect(fixture.runtime.activeRoomCount + fixture.runtime.warmDatabaseCount >= fixture.runtime.openDatabaseCount)
        #expect(fixture.runtime.openDatabaseCount == Set(descriptors(under: rooms).filter { $0.hasSuffix(".sqlite") }).count)
        await fixture.stop()
    }
}
