import ChatRooms
import Foundation
import GRDB
import Logging
import PostgresTesting
@_spi(Node) import RoomCluster
@_spi(Node) import RoomRuntime
@_spi(Node) import RoomTesting
import TestSupport
import Testing

/// A runtime that asks the control plane (on a real PostgreSQL) before serving a room.
@Suite("Room ownership in the runtime", .serialized, .watched)
struct RuntimeOwnershipTests {
    static func post(_ rooms: TestRuntime, _ id: String, _ text: String) async throws -> RoomResponse {
        try await rooms.request(id, "POST", ["messages"], body: #"{"user": "ann", "text": "\#(text)", "id": "\#(text)"}"#)
    }

    static func messages(in file: URL) throws -> [String] {
        let reader = try DatabaseQueue(path: file.path)
        defer { try? reader.close() }
        return try reader.read { db in try String.fetchAll(db, sql: "SELECT text FROM messages ORDER BY seq") }
    }

    static func ownerEpoch(in file: URL) throws -> Int? {
        let reader = try DatabaseQueue(path: file.path)
        defer { try? reader.close() }
        return try reader.read { db in try Int.fetchOne(db, sql: "SELECT value FROM _rooms_meta WHERE key = 'owner_epoch'") }
    }

    static func stamp(_ epoch: Int, into file: URL) throws {
        let writer = try DatabaseQueue(path: file.path)
        defer { try? writer.close() }
        try writer.write { db in
            try db.execute(sql: "UPDATE _rooms_meta SET value = ? WHERE key = 'owner_epoch'", arguments: [epoch])
        }
    }

    @Test("a node serves the rooms it owns (their files stamped with the epoch), refuses those another node owns, and stops writing once a takeover stamps a newer epoch")
    func ownership() async throws {
        let server = try await PostgresDatabase.fresh()
        defer { server.kill() }
        try await ControlPlaneTests.withNode("a", server) { a in
            try await ControlPlaneTests.withNode("b", server) { b in
                try await a.join()
                try await b.join()
                #expect(try await b.acquire(kind: "chat", id: "theirs") == .mine(epoch: 1))
                let rooms = try TestRuntime(ChatRoom.self, kind: "chat") { $0.owners = a }
                defer { Task { await rooms.stopAndRemove() } }

                _ = try await Self.post(rooms, "mine", "one")
                #expect(try await server.psql("SELECT owner || ' ' || epoch FROM rooms_owners WHERE id = 'mine'") == "a 1")
                let file = rooms.runtime.layout.file(of: try rooms.address("mine"))
                #expect(try Self.ownerEpoch(in: file) == 1)

                let refused = try await #require(throws: RoomError.self) { try await Self.post(rooms, "theirs", "x") }
                #expect(refused.code == .roomUnavailable)
                #expect(refused.message.contains("node b"))
                #expect(!FileManager.default.fileExists(atPath: rooms.runtime.layout.file(of: try rooms.address("theirs")).path))

                // Node b takes "mine" over (a's lease is let go) and stamps epoch 2 into its file,
                // as its runtime would: a, with the room still in memory, can no longer commit.
                try await a.leave()
                #expect(try await b.acquire(kind: "chat", id: "mine") == .mine(epoch: 2))
                try Self.stamp(2, into: file)
                let fenced = try await #require(throws: RoomError.self) { try await Self.post(rooms, "mine", "two") }
                #expect(fenced.code == .roomUnavailable)
                #expect(try Self.messages(in: file) == ["one"])
                // Nor does it serve the room again: the control plane says b owns it.
                let again = try await #require(throws: RoomError.self) { try await Self.post(rooms, "mine", "three") }
                #expect(again.code == .roomUnavailable)
                #expect(try Self.messages(in: file) == ["one"])
            }
        }
    }

    @Test("two nodes on one data directory: a room moves with everything acknowledged, seqs go on, and the old node can no longer write to it")
    func handOver() async throws {
        let server = try await PostgresDatabase.fresh()
        defer { server.kill() }
        let data = FileManager.default.temporaryDirectory.appendingPathComponent("rooms-cluster-\(UUID().uuidString.prefix(8))")
        defer { try? FileManager.default.removeItem(at: data) }
        try await ControlPlaneTests.withNode("a", server) { a in
            try await ControlPlaneTests.withNode("b", server) { b in
                try await a.join()
                try await b.join()
                let nodeA = try TestRuntime(ChatRoom.self, kind: "chat", dataDirectory: data) {
                    $0.owners = a
                    $0.nodeID = "a"
                }
                let nodeB = try TestRuntime(ChatRoom.self, kind: "chat", dataDirectory: data) {
                    $0.owners = b
                    $0.nodeID = "b"
                }
                // A second process as node a is refused: each node locks its own folder. So is a
                // node running alone on the cluster's files.
                #expect(throws: NodeLockError.self) {
                    _ = try TestRuntime(ChatRoom.self, kind: "chat", dataDirectory: data) { $0.nodeID = "a" }
                }
                #expect(throws: NodeLockError.self) {
                    _ = try TestRuntime(ChatRoom.self, kind: "chat", dataDirectory: data)
                }
                for text in ["m1", "m2"] { _ = try await Self.post(nodeA, "lobby", text) }
                let refused = try await #require(throws: RoomError.self) { try await Self.post(nodeB, "lobby", "x") }
                #expect(refused.message.contains("node a"))

                try await a.leave()
                _ = try await Self.post(nodeB, "lobby", "m3")
                let history = try await nodeB.request("lobby", "GET", ["messages"]).json["messages"] as? [[String: Any]] ?? []
                #expect(history.compactMap { $0["text"] as? String } == ["m1", "m2", "m3"])
                #expect(history.compactMap { $0["seq"] as? Int } == [1, 2, 3])

                let fenced = try await #require(throws: RoomError.self) { try await Self.post(nodeA, "lobby", "m4") }
                #expect(fenced.code == .roomUnavailable)
                // Nor may a delete anything of it.
                let deleting = try await #require(throws: RoomError.self) {
                    try await nodeA.runtime.delete(try nodeA.address("lobby"))
                }
                #expect(deleting.code == .roomUnavailable)
                let file = nodeB.runtime.layout.file(of: try nodeB.address("lobby"))
                #expect(try Self.messages(in: file) == ["m1", "m2", "m3"])
                #expect(try Self.ownerEpoch(in: file) == 2)
                #expect(FileManager.default.fileExists(atPath: data.appendingPathComponent("nodes/a/directory.sqlite").path))
                #expect(FileManager.default.fileExists(atPath: data.appendingPathComponent("nodes/b/node.lock").path))
                await nodeA.stop()
                await nodeB.stop()
            }
        }
    }

    @Test("kinds' ttl in a cluster: each node expires the untouched rooms it owns; a room in use on a node is kept; the rooms of a node that left are expired by another")
    func expiry() async throws {
        let server = try await PostgresDatabase.fresh()
        defer { server.kill() }
        let data = FileManager.default.temporaryDirectory.appendingPathComponent("rooms-cluster-\(UUID().uuidString.prefix(8))")
        defer { try? FileManager.default.removeItem(at: data) }
        let kinds = [try RoomKind(name: "chat", roomClass: RoomClass(ChatRoom.self), ttl: .seconds(2))]
        try await ControlPlaneTests.withNode("a", server) { a in
            try await ControlPlaneTests.withNode("b", server) { b in
                try await a.join()
                try await b.join()
                // Leases renewed as a node's membership does: a loaded machine can take longer
                // than a lease over this test, and a lapsed b would let a take b's rooms.
                let keepA = Task { await a.keepLease { _ in Issue.record("a lost its lease") } }
                let keepB = Task { await b.keepLease { _ in Issue.record("b lost its lease") } }
                defer {
                    keepA.cancel()
                    keepB.cancel()
                }
                func node(_ plane: ControlPlane) throws -> TestRuntime {
                    try TestRuntime(kinds: kinds, dataDirectory: data) { (configuration: inout RuntimeConfiguration) in
                        configuration.owners = plane
                        configuration.directoryMirror = plane
                        configuration.nodeID = plane.node.id
                        configuration.idleTimeout = .milliseconds(100)
                        configuration.directoryFlushInterval = .milliseconds(100)
                    }
                }
                let nodeA = try node(a)
                let nodeB = try node(b)
                func exists(_ id: String) throws -> Bool {
                    FileManager.default.fileExists(atPath: nodeA.runtime.layout.file(of: try nodeA.address(id)).path)
                }
                func directory() async throws -> String {
                    try await server.psql("SELECT coalesce(string_agg(id, ',' ORDER BY id), '') FROM rooms_directory")
                }
                _ = try await Self.post(nodeA, "a-old", "m1")
                _ = try await Self.post(nodeB, "b-old", "m1")
                let held = try nodeA.connect("a-held")
                try await held.waitFor(1, ofType: "welcome")
                _ = try await Self.post(nodeB, "b-busy", "m0")
                try await eventually("every room is in the cluster's directory") { () async throws -> Bool in
                    let ids: String = try await directory()
                    return ids == "a-held,a-old,b-busy,b-old"
                }
                // b-busy is used every 50 ms while the test waits for `done`.
                var sent = 0
                var listed = ""
                func keepBusy(until what: @autoclosure () -> String, _ done: () async throws -> Bool) async throws {
                    let deadline = ContinuousClock.now + .seconds(20)
                    while try await !done() {
                        guard ContinuousClock.now < deadline else { throw TimedOut(description: "timed out waiting for \(what())") }
                        sent += 1
                        _ = try await Self.post(nodeB, "b-busy", "m\(sent)")
                        try await Task.sleep(for: .milliseconds(50))
                    }
                }
                // b's own room goes, and a's: each node expires what it owns. "a-held" has a
                // client on a, so a keeps it, and b, which does not own it, leaves it.
                try await keepBusy(until: "the untouched rooms to expire") {
                    let (aOld, bOld) = (try exists("a-old"), try exists("b-old"))
                    return !aOld && !bOld
                }
                #expect(try exists("b-busy"), "a room in use was expired")
                #expect(try exists("a-held"), "a room with a client on its owner was expired")
                #expect(held.closeCode == nil)
                try await keepBusy(until: "the expired rooms to leave the cluster's directory (it lists \(listed))") {
                    listed = try await directory()
                    return listed == "a-held,b-busy"
                }

                // Node a stops and leaves (its lease let go, as a crashed node's lapses) with a
                // room just made: b, which never served it, expires it once it is untouched for
                // the TTL, since no live node owns it any more; a-held too, now its client left.
                held.disconnect()
                _ = try await Self.post(nodeA, "a-left", "m1")
                await nodeA.stop()
                keepA.cancel()
                try await a.leave()
                try await keepBusy(until: "b to expire the rooms of the node that left") {
                    let (left, held) = (try exists("a-left"), try exists("a-held"))
                    return !left && !held
                }
                try await keepBusy(until: "only b-busy to be left in the cluster's directory (it lists \(listed))") {
                    listed = try await directory()
                    return listed == "b-busy"
                }
                let latest = try await nodeB.request("b-busy", "GET", ["messages"], query: ["after": "\(sent - 9)"])
                let seqs = (latest.json["messages"] as? [[String: Any]] ?? []).compactMap { $0["seq"] as? Int }
                #expect(seqs == Array(sent - 8...sent + 1), "a room in use lost messages")
                #expect(try exists("b-busy"))
                await nodeB.stop()
            }
        }
    }

    @Test("a cluster's node does not start on the data directory of a node running alone")
    func noClusterOnALoneNodesFiles() async throws {
        let alone = try TestRuntime(ChatRoom.self, kind: "chat")
        #expect(throws: NodeLockError.self) {
            _ = try TestRuntime(ChatRoom.self, kind: "chat", dataDirectory: alone.dataDirectory) { $0.nodeID = "a" }
        }
        #expect(!FileManager.default.fileExists(atPath: alone.dataDirectory.appendingPathComponent("nodes/a").path))
        await alone.stopAndRemove()
    }

    @Test("a node ID that is not a plain folder name is refused, and nothing is created")
    func garbageNodeIDs() throws {
        let data = FileManager.default.temporaryDirectory.appendingPathComponent("rooms-cluster-\(UUID().uuidString.prefix(8))")
        defer { try? FileManager.default.removeItem(at: data) }
        for id in ["", ".", "..", "../escape", "a/b", "a b", String(repeating: "n", count: 65), "nöde", "a\u{0}b"] {
            #expect(throws: ConfigurationError.self, "\(id)") {
                _ = try TestRuntime(ChatRoom.self, kind: "chat", dataDirectory: data) { $0.nodeID = id }
            }
        }
        #expect(!FileManager.default.fileExists(atPath: data.path))
        #expect(!FileManager.default.fileExists(atPath: data.deletingLastPathComponent().appendingPathComponent("escape").path))
    }
}
