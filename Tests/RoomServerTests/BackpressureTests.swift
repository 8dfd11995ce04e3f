import Foundation
import RoomTesting
import HTTPTypes
import HummingbirdTesting
import NIOCore
import NIOWebSocket
@_spi(Node) import RoomRuntime
@_spi(Node) import RoomServer
import Synchronization
import TestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

@Suite("A client that writes faster than its room commits", .watched)
struct BackpressureTests {
    /// The resident memory of process `pid`, in bytes (Linux).
    static func residentBytes(of pid: Int32) -> Int {
        let status = (try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)) ?? ""
        let line = status.split(separator: "\n").first { $0.hasPrefix("VmRSS:") } ?? ""
        return (Int(line.split(separator: " ").dropFirst().first ?? "") ?? 0) * 1024
    }

    /// A room id of kind `chat` on the same shard as `other`, for a server of `shards` shards.
    static func idOnSameShard(as other: String, shards: Int) throws -> String {
        let shard = Router.shardIndex(for: try RoomAddress(kind: "chat", id: other), shardCount: shards)
        for index in 0..<1_000 {
            let id = "neighbour-\(index)"
            if Router.shardIndex(for: try RoomAddress(kind: "chat", id: id), shardCount: shards) == shard { return id }
        }
        throw TestFailure("no id on the same shard")
    }

    @Test(
        "a flood of frames is read only as fast as the room commits: memory stays bounded, a neighbour room is not slowed, acked frames are stored, a closed flooder's backlog is dropped, shutdown keeps its timeout",
        .enabled(if: FileManager.default.fileExists(atPath: "/proc/self/status"), "reads /proc"),
        arguments: [false, true])
    func floodIsBackpressured(flooderReads: Bool) async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("rooms-flood-\(UUID())")
        defer { try? FileManager.default.removeItem(at: directory) }
        let server = try await ServerProcess.start(
            kinds: #"{"chat": {"class": "chat"}}"#, runtime: #"{"shards": 2}"#, dataDirectory: directory)
        let neighbourID = try Self.idOnSameShard(as: "flooded", shards: 2)
        // Both clients are bare sockets on threads of their own: what is measured is the server,
        // not this process's task threads, which other tests keep busy.
        let neighbour = try RawWebSocket(port: server.port, path: "/rooms/chat/\(neighbourID)/ws?user=bob")
        #expect(neighbour.roundTrip(#"{"type":"send","id":"warm","text":"warm up"}"#, until: "ack") != nil)
        let baseline = Self.residentBytes(of: server.pid)

        // The flooder writes for 3 seconds, as fast as the server takes them. One flooder reads
        // nothing meanwhile; the other reads what it is sent (so that it is not dropped as a slow
        // consumer) and keeps flooding. Its frames have a masking key of zeros: made in bulk, they
        // cost the test little, and it writes far faster than a room commits.
        let flooder = try RawWebSocket(port: server.port, path: "/rooms/chat/flooded/ws?user=flood")
        let text = String(repeating: "f", count: 100)
        // On a thread of its own: a loop of system calls must not hold one of the few threads
        // that run the test's tasks (and the neighbour's client).
        let flooding = OffThread.start {
            var made = 0
            var bytes: [UInt8] = []
            var offset = 0
            let deadline = ContinuousClock.now + .seconds(3)
            while ContinuousClock.now < deadline {
                if offset == bytes.count {
                    bytes.removeAll(keepingCapacity: true)
                    for index in made..<(made + 256) {
                        bytes += RawWebSocket.frame(#"{"type":"send","id":"f\#(index)","text":"\#(text)"}"#, cheap: true)
                    }
                    made += 256
                    offset = 0
                }
                if flooderReads { flooder.readAvailable() }
                guard let written = flooder.writeSome(bytes[offset...]) else { break }
                if written == 0 { flooder.waitUntilWritable(timeout: .milliseconds(20)) }
                offset += written
            }
            // Gone at once, with its last frames still on their way: the server must drop what
            // it has not answered.
            if flooderReads { flooder.readAvailable() }
            flooder.abort()
            return made
        }

        // Meanwhile the neighbour, on the flooded room's shard, is answered promptly.
        let rounds = OffThread.start { () -> [Duration?] in
            (0..<15).map { round in
                defer { Thread.sleep(forTimeInterval: 0.1) }
                return neighbour.roundTrip(#"{"type":"send","id":"n\#(round)","text":"still there?"}"#, until: "ack")
            }
        }
        let times = await rounds.value()
        #expect(times.allSatisfy { $0 != nil }, "the neighbour got no ack within 10 s")
        let slowest = times.compactMap { $0 }.max() ?? .zero
        let frames = await flooding.value()
        let grown = Self.residentBytes(of: server.pid) - baseline
        #expect(slowest < .seconds(2), "the neighbour room waited \(slowest) for an ack")
        #expect(grown < 100 << 20, "the server grew by \(grown >> 20) MiB while \(frames) frames were written at it")

        // What the flooder was told is stored; once it is gone, its queued frames are dropped.
        let acked = flooder.texts.compactMap { text -> String? in
            let object = (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any]
            return object?["type"] as? String == "ack" ? object?["id"] as? String : nil
        }
        var settled = -1
        try await eventually("the flooded room stops storing") {
            let lastSeq = try await server.http(.get, "/rooms/chat/flooded").json["lastSeq"] as? Int ?? 0
            defer { settled = lastSeq }
            try await Task.sleep(for: .milliseconds(500))
            return lastSeq == settled
        }
        #expect(settled < frames, "every frame written was stored: nothing was dropped after the flooder left")
        var stored = Set<String>()
        var after = 0
        while true {
            let page = try await server.http(.get, "/rooms/chat/flooded/messages?after=\(after)&limit=500")
            let messages = page.json["messages"] as? [[String: Any]] ?? []
            guard !messages.isEmpty else { break }
            stored.formUnion(messages.compactMap { $0["id"] as? String })
            after = messages.last?["seq"] as? Int ?? after
        }
        #expect(!flooderReads || !acked.isEmpty)
        #expect(Set(acked).isSubset(of: stored), "\(Set(acked).subtracting(stored).count) acked frames are not stored")

        neighbour.abort()
        let stopping = ContinuousClock.now
        #expect(try await server.stop(signal: SIGTERM, timeout: .seconds(60)) == 0)
        #expect(ContinuousClock.now - stopping < .seconds(15), "shutdown took \(ContinuousClock.now - stopping)")
    }

    @Test("requests to a room whose mailbox is full get 503 room_overloaded with Retry-After; the others are answered")
    func overloadedRoomRefusesRequests() async throws {
        let server = try await TestServer.start { configuration in
            configuration.runtime.maxQueuedEvents = 3
            configuration.runtime.kinds["probe"] = try! RoomKind(name: "probe", roomClass: RoomClass(ProbeRoom.self))
        }
        // The first request holds the room's turn; three more fit in its mailbox; the rest do not.
        let key = "overload-\(UUID().uuidString.prefix(8))"
        let first = Task { try await server.http(.get, "/rooms/probe/busy/hold/\(key)") }
        try await eventually("the room holds its turn") { ProbeRoom.gates.entries(for: key).contains("holding") }
        final class Count: Sendable { let value = Mutex(0) }
        let answered = Count()
        let requests = Task {
            try await withThrowingTaskGroup(of: (Int, String?, String?).self) { group in
                for _ in 0..<10 {
                    group.addTask {
                        try await TestClient.withClient(host: "127.0.0.1", port: server.port) { client in
                            let response = try await client.execute(TestClient.Request("/rooms/probe/busy/echo", method: .get))
                            answered.value.withLock { $0 += 1 }
                            let body = response.body.map { String(buffer: $0) } ?? ""
                            let code =
                                ((try? JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any])?["error"]
                                as? [String: Any])?["code"] as? String
                            return (response.status.code, code, response.headers[.retryAfter])
                        }
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
        }
        // Every request has been refused or queued before the room goes on.
        try await eventually("7 refused and 3 queued") {
            answered.value.withLock { $0 } == 7 && server.server.runtime.deepestMailbox == 3
        }
        ProbeRoom.release(key)
        let results = try await requests.value
        #expect(try await first.value.status == 200)
        let refused = results.filter { $0.0 == 503 }
        #expect(results.filter { $0.0 == 200 }.count == 3, "\(results)")
        #expect(refused.count == 7, "\(results)")
        #expect(refused.allSatisfy { $0.1 == "room_overloaded" && $0.2 == "1" }, "\(refused)")
        try await server.stopAndRemove()
    }
}

/// Runs a blocking loop on an OS thread of its own, and hands back its result.
final class OffThread<Value: Sendable>: Sendable {
    private let result = Mutex<(value: Value?, waiter: CheckedContinuation<Value, Never>?)>((nil, nil))

    static func start(_ body: @escaping @Sendable () -> Value) -> OffThread {
        let thread = OffThread()
        Thread.detachNewThread {
            let value = body()
            let waiter = thread.result.withLock { state in
                state.value = value
                return state.waiter
            }
            waiter?.resume(returning: value)
        }
        return thread
    }

    func value() async -> Value {
        await withCheckedContinuation { continuation in
            let ready: Value? = result.withLock { state in
                if state.value == nil { state.waiter = continuation }
                return state.value
            }
            if let ready { continuation.resume(returning: ready) }
        }
    }
}