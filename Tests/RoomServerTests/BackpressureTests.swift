import Foundation
import HTTPTypes
import NIOWebSocket
@_spi(Node) import RoomRuntime
import Testing

#if canImport(Glibc)
import Glibc
#endif

@Suite("A client that writes faster than its room commits")
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
        let neighbour = try await server.socket("/rooms/chat/\(neighbourID)/ws?user=bob")
        try await neighbour.waitFor(1, "welcome")
        neighbour.send(json: ["type": "send", "id": "warm", "text": "warm up"])
        try await neighbour.waitFor(1, "ack")
        let baseline = Self.residentBytes(of: server.pid)

        // The flooder writes 1 KiB messages for 5 seconds, as fast as the server takes them. One
        // flooder reads nothing meanwhile; the other reads what it is sent (so that it is not
        // dropped as a slow consumer) and keeps flooding.
        let flooder = try RawWebSocket(port: server.port, path: "/rooms/chat/flooded/ws?user=flood")
        let text = String(repeating: "f", count: 1_000)
        let flooding = Task.detached { () -> Int in
            var sent = 0
            var bytes: [UInt8] = []
            var offset = 0
            let deadline = ContinuousClock.now + .seconds(5)
            while ContinuousClock.now < deadline {
                if offset == bytes.count {
                    bytes = (0..<64).flatMap { RawWebSocket.frame(#"{"type":"send","id":"f\#(sent + $0)","text":"\#(text)"}"#) }
                    sent += 64
                    offset = 0
                }
                if flooderReads { flooder.readAvailable() }
                guard let written = flooder.writeSome(bytes[offset...]) else { break }
                if written == 0 { try? await Task.sleep(for: .milliseconds(1)) }
                offset += written
            }
            return sent
        }

        // Meanwhile the neighbour, on the flooded room's shard, is answered promptly.
        var slowest = Duration.zero
        for round in 0..<20 {
            let started = ContinuousClock.now
            neighbour.send(json: ["type": "send", "id": "n\(round)", "text": "still there?"])
            try await neighbour.waitFor(round + 2, "ack", timeout: .seconds(10))
            slowest = max(slowest, ContinuousClock.now - started)
            try await Task.sleep(for: .milliseconds(100))
        }
        let frames = await flooding.value
        let grown = Self.residentBytes(of: server.pid) - baseline
        #expect(slowest < .seconds(2), "the neighbour room waited \(slowest) for an ack")
        #expect(grown < 100 << 20, "the server grew by \(grown >> 20) MiB while \(frames) frames were written at it")

        // What the flooder was told is stored; once it is gone, its queued frames are dropped.
        let (texts, _) = flooder.readAll(quiet: .seconds(1))
        let acked = texts.compactMap { text -> String? in
            let object = (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any]
            return object?["type"] as? String == "ack" ? object?["id"] as? String : nil
        }
        flooder.abort()
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
        #expect(!acked.isEmpty)
        #expect(Set(acked).isSubset(of: stored), "\(Set(acked).subtracting(stored).count) acked frames are not stored")

        try await neighbour.close()
        let stopping = ContinuousClock.now
        #expect(try await server.stop(signal: SIGTERM, timeout: .seconds(60)) == 0)
        #expect(ContinuousClock.now - stopping < .seconds(15), "shutdown took \(ContinuousClock.now - stopping)")
    }
}
