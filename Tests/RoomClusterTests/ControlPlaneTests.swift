import Foundation
import Logging
import PostgresTesting
@_spi(Node) import RoomCluster
@_spi(Node) import RoomRuntime
import Synchronization
import TestSupport
import Testing

/// The control plane against a real PostgreSQL (a database each on the test process's shared server).
@Suite("Cluster control plane on PostgreSQL", .serialized, .watched)
struct ControlPlaneTests {
    /// A control plane for node `id`, its pool running until `body` returns.
    static func withNode<T>(
        _ id: String, _ server: any PostgresEndpoint, lease: Duration = .seconds(10),
        _ body: (ControlPlane) async throws -> T
    ) async throws -> T {
        let plane = ControlPlane(
            nodeID: id, advertise: "http://127.0.0.1:1\(id.utf8.count)00", leaseDuration: lease,
            address: try PostgresAddress(url: server.url), logger: Logger(label: "test.\(id)"),
            // A CI machine running every suite at once can keep PostgreSQL from answering for a
            // while; these tests are about ownership, not about that timeout.
            requestTimeout: .seconds(30))
        let pool = Task { await plane.run() }
        defer { pool.cancel() }
        return try await body(plane)
    }

    @Test("nodes starting together create the tables once, at the current version; a newer schema is refused")
    func migration() async throws {
        let server = try await PostgresDatabase.fresh()
        defer { server.kill() }
        try await Self.withNode("a", server) { a in
            try await Self.withNode("b", server) { b in
                try await Self.withNode("c", server) { c in
                    async let joinA: Void = a.join()
                    async let joinB: Void = b.join()
                    async let joinC: Void = c.join()
                    _ = try await (joinA, joinB, joinC)
                    // The link secret: written once, the same for every node.
                    async let secretA = a.linkSecret()
                    async let secretB = b.linkSecret()
                    let (first, second) = try await (secretA, secretB)
                    #expect(first.count == 32)
                    #expect(first == second)
                    #expect(try await c.linkSecret() == first)
                }
            }
        }
        #expect(try await server.psql("SELECT string_agg(version::text, ',' ORDER BY version) FROM rooms_schema") == "1,2,3,4,5")
        #expect(try await server.psql("SELECT count(*) FROM rooms_nodes") == "3")
        #expect(try await server.psql("SELECT count(*) FROM rooms_cluster") == "1")
        _ = try await server.psql("INSERT INTO rooms_schema (version) VALUES (99)")
        let error = try await #require(throws: ClusterError.self) {
            try await Self.withNode("d", server) { try await $0.join() }
        }
        #expect(error.kind == .schemaTooNew)
        #expect(try await server.psql("SELECT count(*) FROM rooms_nodes WHERE id = 'd'") == "0")
    }

    @Test("three nodes asking for the same rooms at once: each room gets one owner, epoch 1, and all agree")
    func oneOwnerPerRoom() async throws {
        let server = try await PostgresDatabase.fresh()
        defer { server.kill() }
        let rooms = (0..<30).map { "r\($0)" }
        let answers = try await Self.withNode("a", server) { a in
            try await Self.withNode("b", server) { b in
                try await Self.withNode("c", server) { c in
                    for node in [a, b, c] { try await node.join() }
                    // Ninety takeovers through four connections each can outlast a lease on a
                    // loaded machine: the leases are kept as a node keeps them.
                    let keepers = [a, b, c].map { node in Task { await node.keepLease { _ in Issue.record("\(node.node.id) lost its lease") } } }
                    defer { for keeper in keepers { keeper.cancel() } }
                    return try await withThrowingTaskGroup(of: (String, String, RoomOwnership).self) { group in
                        for room in rooms {
                            for node in [a, b, c].shuffled() {
                                group.addTask { (room, node.node.id, try await node.acquire(kind: "chat", id: room)) }
                            }
                        }
                        var answers: [(String, String, RoomOwnership)] = []
                        for try await answer in group { answers.append(answer) }
                        // Asking again does not move a room, nor raise its epoch.
                        for (room, asker, _) in answers {
                            let node = [a, b, c].first { $0.node.id == asker }!
                            answers.append((room, asker, try await node.acquire(kind: "chat", id: room)))
                        }
                        return answers
                    }
                }
            }
        }
        for room in rooms {
            let owners = Set(
                answers.filter { $0.0 == room }.map { answer -> String in
                    switch answer.2 {
                    case .mine(let epoch):
                        #expect(epoch == 1)
                        return answer.1
                    case .elsewhere(let node, let address, let epoch):
                        #expect(epoch == 1)
                        #expect(address.hasPrefix("http://127.0.0.1:"))
                        return node
                    }
                })
            #expect(owners.count == 1, "room \(room) has owners \(owners)")
            #expect(try await server.psql("SELECT owner || ' ' || epoch FROM rooms_owners WHERE kind = 'chat' AND id = '\(room)'") == "\(owners.first!) 1")
        }
        #expect(try await server.psql("SELECT count(*) FROM rooms_owners") == "30")
    }

    @Test("a node ID whose lease is live cannot join again; once the node leaves, its rooms are taken at once with the next epoch")
    func nodeIDAndLeave() async throws {
        let server = try await PostgresDatabase.fresh()
        defer { server.kill() }
        try await Self.withNode("a", server) { a in
            try await a.join()
            #expect(try await a.acquire(kind: "chat", id: "x") == .mine(epoch: 1))
            try await Self.withNode("a", server) { again in
                let error = try await #require(throws: ClusterError.self) { try await again.join(waitingUpTo: .zero) }
                #expect(error.kind == .nodeIDInUse)
            }
            try await Self.withNode("b", server) { b in
                try await b.join()
                #expect(try await b.acquire(kind: "chat", id: "x") == .elsewhere(node: "a", address: a.node.address, epoch: 1))
                try await a.leave()
                #expect(!a.lease.isValid)
                #expect(try await b.acquire(kind: "chat", id: "x") == .mine(epoch: 2))
                let error = try await #require(throws: ClusterError.self) { try await a.acquire(kind: "chat", id: "y") }
                #expect(error.kind == .notJoined)
            }
            try await Self.withNode("a", server) { again in
                try await again.join(waitingUpTo: .zero)
                #expect(try await again.acquire(kind: "chat", id: "x") == .elsewhere(node: "b", address: "http://127.0.0.1:1100", epoch: 2))
            }
        }
        #expect(try await server.psql("SELECT count(*) FROM rooms_owners WHERE owner = 'a'") == "0")
    }

    @Test("a lapsed lease: another node takes the room with the next epoch, and the old node can neither renew nor take rooms")
    func lapsedLease() async throws {
        let server = try await PostgresDatabase.fresh()
        defer { server.kill() }
        // Leases of 3 s: long enough for a loaded machine to join and take a room within one.
        try await Self.withNode("a", server, lease: .seconds(3)) { a in
            try await Self.withNode("b", server, lease: .seconds(3)) { b in
                try await a.join()
                try await b.join()
                #expect(try await a.acquire(kind: "chat", id: "x") == .mine(epoch: 1))
                let bKeeper = Task { await b.keepLease { _ in Issue.record("b lost its lease") } }
                defer { bKeeper.cancel() }
                // b keeps its lease; a does not renew. a's own deadline passes first, then the
                // database's, and b takes the room.
                let started = ContinuousClock.now
                while a.lease.isValid { try await Task.sleep(for: .milliseconds(50)) }
                var taken: RoomOwnership?
                while ContinuousClock.now - started < .seconds(10) {
                    taken = try await b.acquire(kind: "chat", id: "x")
                    if taken == .mine(epoch: 2) { break }
                    #expect(taken == .elsewhere(node: "a", address: a.node.address, epoch: 1))
                    try await Task.sleep(for: .milliseconds(100))
                }
                #expect(taken == .mine(epoch: 2))
                let renewal = try await #require(throws: ClusterError.self) { try await a.renew() }
                #expect(renewal.kind == .leaseLost)
                let taking = try await #require(throws: ClusterError.self) { try await a.acquire(kind: "chat", id: "y") }
                #expect(taking.kind == .notJoined)
                #expect(try await server.psql("SELECT owner || ' ' || epoch FROM rooms_owners WHERE id = 'x'") == "b 2")
            }
        }
    }

    @Test("renewals keep a node's rooms across many lease lengths")
    func renewalKeepsRooms() async throws {
        let server = try await PostgresDatabase.fresh()
        defer { server.kill() }
        try await Self.withNode("a", server, lease: .seconds(3)) { a in
            try await Self.withNode("b", server, lease: .seconds(3)) { b in
                try await a.join()
                try await b.join()
                let keeper = Task { await a.keepLease { _ in Issue.record("a lost its lease") } }
                let bKeeper = Task { await b.keepLease { _ in Issue.record("b lost its lease") } }
                defer {
                    keeper.cancel()
                    bKeeper.cancel()
                }
                for index in 0..<20 { _ = try await a.acquire(kind: "chat", id: "r\(index)") }
                try await Task.sleep(for: .seconds(7))
                for index in 0..<20 {
                    #expect(try await b.acquire(kind: "chat", id: "r\(index)") == .elsewhere(node: "a", address: a.node.address, epoch: 1))
                }
                #expect(a.lease.isValid)
                let records = try await b.nodes()
                #expect(records.map(\.id) == ["a", "b"])
                #expect(records.first?.rooms == 20)
                #expect(records.allSatisfy { $0.isLive })
            }
        }
    }

    @Test("cut off from PostgreSQL, a node gives its lease up by its own clock, before the database lets another node in")
    func cutOff() async throws {
        let server = try await PostgresServer.start()  // its own: the test pauses it
        defer { server.kill() }
        let lease = Duration.seconds(2)
        try await Self.withNode("a", server, lease: lease) { a in
            try await Self.withNode("b", server, lease: lease) { b in
                try await a.join()
                #expect(try await a.acquire(kind: "chat", id: "x") == .mine(epoch: 1))
                let lostAt = Mutex<[ContinuousClock.Instant]>([])
                let keeper = Task { await a.keepLease { _ in lostAt.withLock { $0.append(.now) } } }
                defer { keeper.cancel() }
                try await Task.sleep(for: .milliseconds(900))
                await server.pause()
                let pausedAt = ContinuousClock.now
                // The last renewal was sent before the pause: the database's lease ends no earlier
                // than that plus the lease.
                try await Task.sleep(for: lease + .milliseconds(500))
                let lost = lostAt.withLock { $0 }
                #expect(lost.count == 1, "lost is called once")
                if let first = lost.first {
                    #expect(first < pausedAt + lease, "gave up before a lease passed since the last renewal that could have reached the database")
                }
                #expect(!a.lease.isValid)
                await server.resume()
                try await b.join()
                let bKeeper = Task { await b.keepLease { _ in Issue.record("b lost its lease") } }
                defer { bKeeper.cancel() }
                try await Task.sleep(for: lease)
                #expect(try await b.acquire(kind: "chat", id: "x") == .mine(epoch: 2))
                #expect(lostAt.withLock { $0.count } == 1)
                // A renewal that was in flight when the database stopped cannot revive the lease.
                try await Task.sleep(for: .milliseconds(200))
                #expect(!a.lease.isValid)
            }
        }
    }

    @Test("the rooms a node may expire: untouched, with no schedule, of the kind, owned by no live node but itself; oldest first")
    func untouchedRooms() async throws {
        let server = try await PostgresDatabase.fresh()
        defer { server.kill() }
        func change(_ kind: String, _ id: String, activeAt: Int64, alarm: Int64? = nil) throws -> DirectoryChange {
            var change = DirectoryChange(address: try RoomAddress(kind: kind, id: id))
            change.createdAt = activeAt
            change.lastActiveAt = activeAt
            if let alarm { change.nextAlarm = .some(alarm) }
            return change
        }
        try await Self.withNode("a", server) { a in
            try await Self.withNode("b", server) { b in
                try await a.join()
                try await b.join()
                try await a.record([
                    try change("chat", "free", activeAt: 2_000), try change("chat", "mine", activeAt: 1_000),
                    try change("chat", "theirs", activeAt: 1_500), try change("chat", "recent", activeAt: 9_000),
                    try change("chat", "scheduled", activeAt: 1_000, alarm: 50_000), try change("notes", "other", activeAt: 1_000),
                ])
                _ = try await a.acquire(kind: "chat", id: "mine")
                _ = try await b.acquire(kind: "chat", id: "theirs")
                #expect(try await a.untouched(kind: "chat", since: 5_000, limit: 10).map(\.id) == ["mine", "free"])
                #expect(try await b.untouched(kind: "chat", since: 5_000, limit: 10).map(\.id) == ["theirs", "free"])
                #expect(try await a.untouched(kind: "chat", since: 5_000, limit: 1).map(\.id) == ["mine"])
                #expect(try await a.untouched(kind: "chat", since: 1_200, limit: 10).map(\.id) == ["mine"])
                #expect(try await a.untouched(kind: "notes", since: 5_000, limit: 10).map(\.id) == ["other"])
                // Once b is gone, its room is anyone's.
                try await b.leave()
                #expect(try await a.untouched(kind: "chat", since: 5_000, limit: 10).map(\.id) == ["mine", "theirs", "free"])
            }
        }
    }

    @Test("garbage PostgreSQL URLs are refused with the reason and without the password")
    func garbageURLs() throws {
        let bad = [
            "", "not a url", "http://u@h/db", "postgres://h/db", "postgres://u:secretpw@/db", "postgres://u:secretpw@h",
            "postgres://u@h:0/db", "postgres://u@h:99999/db", "postgres://u@h/db?sslmode=allow",
            "postgres://u@h/db?application_name=x", "postgres://u@h/a/b", "postgres://u:secretpw@h:abc/db",
        ]
        for url in bad {
            let error = try #require(throws: ClusterError.self, "\(url)") { try PostgresAddress(url: url) }
            #expect(error.kind == .invalidURL)
            #expect(!error.description.contains("secretpw"))
        }
        let good = try PostgresAddress(url: "postgresql://rooms:p%40ss@db.internal:6432/cluster?sslmode=require")
        #expect(good.host == "db.internal")
        #expect(good.port == 6432)
        #expect(good.username == "rooms")
        #expect(good.password == "p@ss")
        #expect(good.database == "cluster")
        #expect(good.sslMode == "require")
        for id in ["", "a b", "a/b", String(repeating: "n", count: 65), "nöde", "a\u{0}"] {
            #expect(!ClusterNode.isValidID(id), "\(id)")
        }
        for id in ["node-1", "eu_west.2", String(repeating: "n", count: 64)] {
            #expect(ClusterNode.isValidID(id))
        }
    }

    @Test("an unreachable PostgreSQL is an error within seconds, not a hang")
    func unreachable() async throws {
        // A port nothing listens on.
        let url = "postgres://rooms@127.0.0.1:\(try PostgresServer.freePort())/postgres?sslmode=disable"
        let plane = ControlPlane(
            nodeID: "a", advertise: "http://127.0.0.1:1", leaseDuration: .seconds(10),
            address: try PostgresAddress(url: url), logger: Logger(label: "test"))
        let pool = Task { await plane.run() }
        defer { pool.cancel() }
        let started = ContinuousClock.now
        let error = try await #require(throws: ClusterError.self) { try await plane.join(waitingUpTo: .zero) }
        #expect(error.kind == .unreachable)
        #expect(ContinuousClock.now - started < .seconds(20))
    }
}
