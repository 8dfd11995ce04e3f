import Foundation
import Synchronization
import HTTPTypes
import NIOWebSocket
import WSCore
import PostgresTesting
import TestSupport
import Testing

/// Three `rooms serve` processes sharing one data directory and a real PostgreSQL.
@Suite("A cluster of three nodes", .serialized, .watched)
struct ClusterProcessTests {
    static let kinds = #"{"chat": {"class": "chat"}}"#
    static let lease = ClusterFixture.lease

    static func post(_ node: ServerProcess, _ room: String, _ text: String) async throws -> HTTPResult {
        try await node.http(.post, "/rooms/chat/\(room)/messages", body: #"{"user": "ann", "text": "\#(text)", "id": "\#(text)"}"#)
    }

    /// The room's whole history through `node`, page by page.
    static func history(_ node: ServerProcess, _ room: String) async throws -> [(seq: Int, text: String)] {
        var all: [(seq: Int, text: String)] = []
        while true {
            let page = try await node.http(.get, "/rooms/chat/\(room)/messages?after=\(all.last?.seq ?? 0)&limit=200")
                .json["messages"] as? [[String: Any]] ?? []
            let messages = page.compactMap { message -> (seq: Int, text: String)? in
                guard let seq = message["seq"] as? Int, let text = message["text"] as? String else { return nil }
                return (seq, text)
            }
            all += messages
            if messages.count < 200 { return all }
        }
    }

    @Test("a room is served by its owner alone; killed with SIGKILL, another node takes it within the lease with everything acknowledged; stopped with SIGTERM, it hands over at once")
    func failoverAndDrain() async throws {
        let cluster = try await ClusterFixture.start()
        let postgres = cluster.postgres
        let a = try await cluster.node("a", kinds: Self.kinds)
        let b = try await cluster.node("b", kinds: Self.kinds)
        let c = try await cluster.node("c", kinds: Self.kinds)
        #expect(try await postgres.psql("SELECT string_agg(id, ',' ORDER BY id) FROM rooms_nodes") == "a,b,c")

        // Node a serves the room it took; the others say so and refuse it.
        var acknowledged: [Int] = []
        for index in 1...30 {
            let answer = try await Self.post(a, "lobby", "m\(index)")
            #expect(answer.status == 201, "\(answer.body)")
            if let seq = answer.json["seq"] as? Int { acknowledged.append(seq) }
        }
        #expect(acknowledged == Array(1...30))
        let owner = try await c.http(.get, "/rooms/chat/lobby/owner").json
        #expect(owner["node"] as? String == "a")
        #expect(owner["url"] as? String == "http://127.0.0.1:\(a.port)")
        #expect(owner["epoch"] as? Int == 1)
        #expect(owner["local"] as? Bool == false)
        // b forwards the room's requests to a (ClusterForwardingTests has the rest).
        #expect(try await Self.history(b, "lobby").map(\.seq) == Array(1...30))

        // GET /cluster: every node, its lease, its rooms; a reports its open connections.
        let listenerOnA = try await a.socket("/rooms/chat/lobby/ws?user=ann")
        _ = try await listenerOnA.waitFor(1, "welcome")
        var view: [String: Any] = [:]
        let viewDeadline = ContinuousClock.now + .seconds(10)
        repeat {
            let answer = try await c.http(.get, "/cluster")
            #expect(answer.status == 200, "\(answer.body)")
            view = answer.json
            let nodes = view["nodes"] as? [[String: Any]] ?? []
            if nodes.first(where: { $0["id"] as? String == "a" })?["connections"] as? Int ?? 0 >= 1 { break }
            try await Task.sleep(for: .milliseconds(200))
        } while ContinuousClock.now < viewDeadline
        #expect(view["cluster"] as? Bool == true)
        #expect(view["node"] as? String == "c")
        let nodes = view["nodes"] as? [[String: Any]] ?? []
        #expect(nodes.compactMap { $0["id"] as? String } == ["a", "b", "c"])
        #expect(nodes.allSatisfy { $0["live"] as? Bool == true && $0["draining"] as? Bool == false })
        #expect(nodes.map { $0["rooms"] as? Int } == [1, 0, 0])
        #expect(nodes.first?["connections"] as? Int ?? 0 >= 1, "renewals report a's connections")
        #expect(nodes.first?["address"] as? String == "http://127.0.0.1:\(a.port)")

        // kill -9 of the owner: b serves the room once a's lease lapsed, with every message.
        try await a.stop(signal: SIGKILL)
        let killedAt = ContinuousClock.now
        var taken: HTTPResult?
        while ContinuousClock.now - killedAt < .seconds(Self.lease + 10) {
            let answer = try await Self.post(b, "lobby", "m31")
            if answer.status == 201 {
                taken = answer
                break
            }
            #expect(answer.errorCode == "room_unavailable", "\(answer.body)")
            try await Task.sleep(for: .milliseconds(100))
        }
        let failover = ContinuousClock.now - killedAt
        #expect(taken?.json["seq"] as? Int == 31, "served again \(failover) after the kill")
        #expect(failover < .seconds(Self.lease + 5))
        let afterKill = try await Self.history(b, "lobby")
        #expect(afterKill.map(\.seq) == Array(1...31))
        #expect(afterKill.map(\.text) == (1...31).map { "m\($0)" })
        #expect(try await c.http(.get, "/rooms/chat/lobby/owner").json["epoch"] as? Int == 2)

        // SIGTERM: b hands its rooms over as it stops, and tells its clients to reconnect at once
        // (1012); c serves the room at once.
        let listener = try await b.socket("/rooms/chat/lobby/ws?user=bob")
        _ = try await listener.waitFor(1, "welcome")
        #expect(try await b.stop(signal: SIGTERM) == 0)
        // Released, not lapsed: no room is b's and its lease ended as it left.
        #expect(try await postgres.psql("SELECT count(*) FROM rooms_owners WHERE owner = 'b'") == "0")
        #expect(try await postgres.psql("SELECT lease_expires_at <= now() FROM rooms_nodes WHERE id = 'b'") == "t")
        let farewell = try await listener.closed()
        #expect(farewell?.closeCode == .init(codeNumber: 1012), "\(String(describing: farewell))")
        let stoppedAt = ContinuousClock.now
        let drained = try await Self.post(c, "lobby", "m32")
        #expect(drained.status == 201, "\(drained.body)")
        #expect(ContinuousClock.now - stoppedAt < .seconds(Self.lease), "no wait for a lease to lapse")
        #expect(try await Self.history(c, "lobby").map(\.seq) == Array(1...32))
        #expect(try await postgres.psql("SELECT owner || ' ' || epoch FROM rooms_owners WHERE id = 'lobby'") == "c 3")
        #expect(try await c.stop() == 0)
        #expect(try await postgres.psql("SELECT count(*) FROM rooms_owners WHERE owner IS NOT NULL") == "0", "c released its rooms")
    }

    @Test("a node cut off from PostgreSQL stops (status 75) and writes nothing once another node took its room; every message it acknowledged is kept")
    func partition() async throws {
        let cluster = try await ClusterFixture.start()
        let postgres = cluster.postgres
        let link = try await CuttableProxy.start(to: postgres.port)
        let a = try await cluster.node("a", kinds: Self.kinds, postgresPort: link.port)
        let b = try await cluster.node("b", kinds: Self.kinds)
        var acknowledged: [Int: String] = [:]
        for index in 1...10 {
            let answer = try await Self.post(a, "p", "m\(index)")
            #expect(answer.status == 201)
            if let seq = answer.json["seq"] as? Int { acknowledged[seq] = "m\(index)" }
        }

        // The partition: a's connections to PostgreSQL go silent, new ones never complete.
        link.mode = .hold
        link.pause(.upstream)
        link.pause(.downstream)
        let cutAt = ContinuousClock.now
        // a keeps taking messages while it can; b asks for the room all along, and goes on
        // writing once it took the room. a must write nothing after that: what each acknowledged
        // is ordered by seq, which no delay in noticing it can reorder. (When the test notices a's
        // exit says less: on a starved machine the exit itself may come late, its writes having
        // stopped at its lease's deadline, before b could take the room.)
        var index = 10
        var exitedAt: ContinuousClock.Instant?
        var taken = false
        var byA: [Int] = []
        var byB: [Int] = []
        while exitedAt == nil || !taken || byB.isEmpty, ContinuousClock.now - cutAt < .seconds(Self.lease + 15) {
            if exitedAt == nil {
                index += 1
                if let answer = try? await Self.post(a, "p", "m\(index)"), answer.status == 201,
                    let seq = answer.json["seq"] as? Int
                {
                    acknowledged[seq] = "m\(index)"
                    byA.append(seq)
                }
                if let status = try await a.exited(within: .milliseconds(50)) {
                    exitedAt = ContinuousClock.now
                    #expect(status == 75, "a exits when it cannot renew its lease")
                }
            }
            // Through b: forwarded to a while a serves, served by b once b took the room.
            let text = taken ? "b owns" : "after"
            let answer = try await Self.post(b, "p", text)
            if answer.status == 201, let seq = answer.json["seq"] as? Int {
                acknowledged[seq] = text
                if taken { byB.append(seq) }
            }
            if !taken, try await postgres.psql("SELECT owner FROM rooms_owners WHERE id = 'p'") == "b" {
                taken = true
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        let exited = try #require(exitedAt, "a did not exit")
        #expect(taken, "b never took the room")
        #expect(exited - cutAt < .seconds(Self.lease + 2))
        let firstByB = try #require(byB.min(), "b acknowledged nothing as the room's owner")
        #expect(byA.allSatisfy { $0 < firstByB }, "a wrote after b took the room: \(byA) against b's first, \(firstByB)")
        let history = try await Self.history(b, "p")
        #expect(history.map(\.seq) == Array(1...history.count), "gap-free")
        for (seq, text) in acknowledged {
            #expect(history.first { $0.seq == seq }?.text == text, "acknowledged \(text) at \(seq) is kept")
        }
        #expect(try await postgres.psql("SELECT owner || ' ' || epoch FROM rooms_owners WHERE id = 'p'") == "b 2")
        #expect(try await b.stop() == 0)
        await link.stop()
    }

    @Test("a rolling restart of all three nodes under load loses nothing: every acknowledged message once, seqs gap-free")
    func rollingRestart() async throws {
        let cluster = try await ClusterFixture.start()
        let state = RollingState()
        for id in ["a", "b", "c"] {
            let node = try await cluster.node(id, kinds: Self.kinds)
            state.nodes.withLock { $0[id] = node }
        }
        // Each sender posts to its room through whichever node is up, retrying a refused or
        // failed send with the same id (the room takes an id once).
        let rooms = ["r1", "r2", "r3"]
        let senders = rooms.map { room in
            Task { () -> [Int: String] in
                var acknowledged: [Int: String] = [:]
                var index = 0
                while state.running.load(ordering: .relaxed) {
                    index += 1
                    let text = "\(room)-\(index)"
                    let deadline = ContinuousClock.now + .seconds(20)
                    sending: while ContinuousClock.now < deadline {
                        for node in state.nodes.withLock({ Array($0.values) }).shuffled() {
                            let sentAt = ContinuousClock.now
                            let answer = try? await Self.post(node, room, text)
                            let took = ContinuousClock.now - sentAt
                            if took > .seconds(2) {
                                state.slow.withLock {
                                    $0.append("\(text) via \(node.port) took \(took): \(answer.map { "\($0.status) \($0.body)" } ?? "error")")
                                }
                            }
                            if let answer, answer.status == 201, let seq = answer.json["seq"] as? Int {
                                acknowledged[seq] = text
                                break sending
                            }
                        }
                        try? await Task.sleep(for: .milliseconds(50))
                    }
                }
                return acknowledged
            }
        }
        try await Task.sleep(for: .seconds(1))
        for id in ["a", "b", "c"] {
            let node = try #require(state.nodes.withLock { $0[id] })
            let port = node.port
            #expect(try await node.stop(signal: SIGTERM) == 0, "node \(id) stops cleanly")
            state.nodes.withLock { $0[id] = nil }
            let again = try await cluster.node(id, kinds: Self.kinds, port: port, directory: "\(id)-again")
            state.nodes.withLock { $0[id] = again }
            try await Task.sleep(for: .milliseconds(500))
        }
        try await Task.sleep(for: .seconds(2))
        state.running.store(false, ordering: .relaxed)
        var total = 0
        for (room, sender) in zip(rooms, senders) {
            let acknowledged = await sender.value
            total += acknowledged.count
            #expect(acknowledged.count >= 3, "\(room): \(acknowledged.count) acknowledged; slow sends: \(state.slow.withLock { $0 })")
            // The history through any node: the one serving it answers, the others refuse.
            var history: [(seq: Int, text: String)] = []
            for node in state.nodes.withLock({ Array($0.values) }) {
                let page = try await Self.history(node, room)
                if !page.isEmpty { history = page }
            }
            #expect(!history.isEmpty)
            #expect(history.map(\.seq) == Array(stride(from: 1, through: history.count, by: 1)), "\(room) gap-free")
            #expect(Set(history.map(\.text)).count == history.count, "\(room): no message twice")
            for (seq, text) in acknowledged {
                #expect(history.first { $0.seq == seq }?.text == text, "\(room): acknowledged \(text) at \(seq) is kept")
            }
        }
        // Each room took messages before, during and after the restarts (a loaded CI machine
        // acknowledges a few dozen in all).
        #expect(total >= 9, "the senders kept going through the restarts (\(total) acknowledged)")
        for node in state.nodes.withLock({ Array($0.values) }) { _ = try await node.stop() }
    }

    @Test("a node whose PostgreSQL URL is missing or garbage, or whose node ID is live elsewhere, does not start")
    func refusedStarts() async throws {
        let cluster = try await ClusterFixture.start()
        for (name, environment) in [("unset", [String: String]()), ("garbage", ["ROOMS_TEST_POSTGRES_URL": "mysql://x"])] {
            let error = await #expect(throws: TestFailure.self) {
                _ = try await ServerProcess.start(
                    kinds: Self.kinds, dataDirectory: cluster.scratch.appendingPathComponent(name),
                    sections: #""cluster": {"postgresURLEnv": "ROOMS_TEST_POSTGRES_URL", "nodeID": "n", "advertise": "http://127.0.0.1:1"}"#,
                    environment: environment, storageDirectory: cluster.storage)
            }
            #expect("\(error.map { "\($0)" } ?? "")".contains("cluster.postgresURLEnv"))
        }
        let first = try await cluster.node("a", kinds: Self.kinds)
        let error = await #expect(throws: TestFailure.self) {
            _ = try await cluster.node("a", kinds: Self.kinds, directory: "again")
        }
        let said = error.map { "\($0)" } ?? ""
        #expect(said.contains("nodes/a"), "\(said)")
        #expect(try await first.stop() == 0)
        #expect(!FileManager.default.fileExists(atPath: cluster.storage.appendingPathComponent("nodes/n").path))
    }
}

/// What the rolling restart's senders and its restarts share.
final class RollingState: Sendable {
    /// The nodes up now, by ID.
    let nodes = Mutex<[String: ServerProcess]>([:])
    let running = Atomic<Bool>(true)
    /// Sends that took more than 2 s, for the failure message.
    let slow = Mutex<[String]>([])
}
