import Foundation
import HTTPTypes
import NIOWebSocket
@_spi(Node) import RoomRuntime
import RoomServer
import RoomTesting
import Synchronization
import TestSupport
import Testing
import WSCore

/// Gap-free resume: `?after=SEQ&epoch=E` replays what a client missed, then goes live.
@Suite("Resuming a room from a sequence number", .watched)
struct ResumeTests {
    /// A client that keeps the messages it saw, resuming from the last one each time it connects.
    final class Follower: @unchecked Sendable {
        var seen: [Int] = []
        var epoch: String?
        var gaps: [String] = []
        var recovered = 0
        var sessions = 0

        var last: Int { seen.last ?? 0 }

        func path(room: String) -> String {
            var path = "/rooms/chat/\(room)/ws?user=follower&after=\(last)"
            if let epoch { path += "&epoch=\(epoch)" }
            return path
        }

        /// Takes the frames one session received: the welcome, then messages in order.
        func take(_ socket: TestSocket) {
            sessions += 1
            let frames = socket.frames
            guard let welcome = frames.first, welcome["type"] as? String == "welcome" else {
                gaps.append("session \(sessions): no welcome first")
                return
            }
            if welcome["recovered"] as? Bool != true {
                gaps.append("session \(sessions): not recovered after \(last)")
            }
            if welcome["recovered"] as? Bool == true { recovered += 1 }
            epoch = welcome["epoch"] as? String
            for frame in frames where frame["type"] as? String == "message" {
                let seq = frame["seq"] as? Int ?? -1
                if seq != last + 1 { gaps.append("session \(sessions): \(seq) after \(last)") }
                if seq > last { seen.append(seq) }
            }
        }
    }

    @Test("a client dropped hundreds of times during a send storm ends with exactly the room's history")
    func resumeStorm() async throws {
        let server = try await TestServer.start { configuration in
            // On a loaded machine one reconnect may lag more than the default 1,000 messages
            // behind, and is then (as documented) not recovered: the replay window is not what
            // this test is about, so it is wide.
            configuration.runtime.kinds["chat"] = try! RoomKind(
                name: "chat", roomClass: configuration.runtime.kinds["chat"]!.roomClass,
                options: ["maxReplayMessages": .number(100_000)])
        }
        defer { Task { try? await server.stopAndRemove() } }
        final class Flag: Sendable { let on = Atomic(true) }
        let sending = Flag()
        // Three senders post a message every few milliseconds each, until told to stop; then
        // every one of their messages is acknowledged (stored).
        let senders = (0..<3).map { index in
            Task {
                let socket = try await server.socket("/rooms/chat/storm/ws?user=s\(index)")
                try await socket.waitFor(1, "welcome")
                var sent = 0
                while sending.on.load(ordering: .relaxed) {
                    sent += 1
                    socket.send(json: ["type": "send", "id": "s\(index)-\(sent)", "text": "m \(sent)"])
                    try await Task.sleep(for: .milliseconds(4))
                }
                try await socket.waitFor(sent, "ack", timeout: .seconds(60))
                try await socket.close()
                return sent
            }
        }
        let follower = Follower()
        let drops = 300
        for drop in 0..<drops {
            let socket = try await server.socket(follower.path(room: "storm"))
            try await socket.waitFor(1, "welcome")
            // Read for a moment of random length (sometimes none), then drop the connection.
            if drop % 3 != 0 { try await Task.sleep(for: .milliseconds(Int.random(in: 1...25))) }
            try await socket.close()
            follower.take(socket)
        }
        sending.on.store(false, ordering: .relaxed)
        var total = 0
        for sender in senders { total += try await sender.value }
        // One last session catches up with everything.
        let last = try await server.socket(follower.path(room: "storm"))
        try await last.waitFor(1, "welcome")
        try await eventually("the follower caught up with \(total) messages", timeout: .seconds(30)) {
            (last.frames(ofType: "message").last?["seq"] as? Int ?? follower.last) >= total
        }
        try await last.close()
        follower.take(last)

        #expect(follower.gaps.isEmpty, "\(follower.gaps.prefix(10))")
        #expect(follower.seen == Array(1...total), "saw \(follower.seen.count) of \(total)")
        #expect(follower.sessions == drops + 1)
        #expect(follower.recovered == drops + 1)
        let info = try await server.http(.get, "/rooms/chat/storm").json
        #expect(info["lastSeq"] as? Int == total)
        print("resume storm: \(total) messages from 3 senders, \(drops) drops, \(follower.recovered) resumes recovered, 0 gaps, 0 duplicates")
    }

    @Test("a resume is refused or not recovered when it cannot be honoured")
    func resumeLimits() async throws {
        let server = try await TestServer.start { configuration in
            configuration.runtime.kinds["short"] = try! RoomKind(
                name: "short", roomClass: configuration.runtime.kinds["chat"]!.roomClass,
                options: ["maxReplayMessages": 3])
        }
        defer { Task { try? await server.stopAndRemove() } }
        for index in 1...5 {
            for kind in ["chat", "short"] {
                let posted = try await server.http(
                    .post, "/rooms/\(kind)/r/messages", body: #"{"user": "ann", "text": "m\#(index)"}"#)
                #expect(posted.status == 201)
            }
        }
        let first = try await server.socket("/rooms/chat/r/ws?user=bob")
        let welcome = try await first.waitFor(1, "welcome")[0]
        let epoch = try #require(welcome["epoch"] as? String)
        #expect(welcome["recovered"] as? Bool == false)
        try await first.close()

        func session(_ path: String) async throws -> (welcome: [String: Any], seqs: [Int]) {
            let socket = try await server.socket(path)
            let welcome = try await socket.waitFor(1, "welcome")[0]
            try await Task.sleep(for: .milliseconds(200))
            try await socket.close()
            return (welcome, socket.frames(ofType: "message").compactMap { $0["seq"] as? Int })
        }
        let resumed = try await session("/rooms/chat/r/ws?user=bob&after=2&epoch=\(epoch)")
        #expect(resumed.welcome["recovered"] as? Bool == true && resumed.seqs == [3, 4, 5])
        let noEpoch = try await session("/rooms/chat/r/ws?user=bob&after=4")
        #expect(noEpoch.welcome["recovered"] as? Bool == true && noEpoch.seqs == [5])
        let upToDate = try await session("/rooms/chat/r/ws?user=bob&after=5&epoch=\(epoch)")
        #expect(upToDate.welcome["recovered"] as? Bool == true && upToDate.seqs == [])
        let otherEpoch = try await session("/rooms/chat/r/ws?user=bob&after=2&epoch=0123456789abcdef")
        #expect(otherEpoch.welcome["recovered"] as? Bool == false && otherEpoch.seqs == [])
        let beyond = try await session("/rooms/chat/r/ws?user=bob&after=99&epoch=\(epoch)")
        #expect(beyond.welcome["recovered"] as? Bool == false && beyond.seqs == [])
        let tooFar = try await session("/rooms/short/r/ws?user=bob&after=1")
        #expect(tooFar.welcome["recovered"] as? Bool == false && tooFar.seqs == [])
        let nearEnough = try await session("/rooms/short/r/ws?user=bob&after=2")
        #expect(nearEnough.welcome["recovered"] as? Bool == true && nearEnough.seqs == [3, 4, 5])

        for query in ["after=-1", "after=1.5", "after=x", "after=", "after=99999999999999999999", "after=1&epoch=", "after=1&epoch=%2F%2F",
                      "after=1&epoch=\(String(repeating: "a", count: 65))"] {
            let refused = try await server.refusedUpgrade("/rooms/chat/r/ws?user=bob&\(query)")
            #expect(refused.status == 400 && refused.errorCode == "invalid_query", "\(query): \(refused.body)")
        }

        // A room deleted and created again has a new epoch: nothing is replayed across it.
        #expect(try await server.http(.delete, "/rooms/chat/r").status == 204)
        #expect(try await server.http(.post, "/rooms/chat/r/messages", body: #"{"user": "ann", "text": "new"}"#).status == 201)
        let recreated = try await session("/rooms/chat/r/ws?user=bob&after=0&epoch=\(epoch)")
        #expect(recreated.welcome["recovered"] as? Bool == false && recreated.seqs == [])
        #expect(recreated.welcome["epoch"] as? String != epoch)
    }

    @Test("a client resumes across a server kill -9: everything acknowledged is replayed, once")
    func resumeAcrossKill() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("rooms-resume-\(UUID())")
        defer { try? FileManager.default.removeItem(at: directory) }
        let kinds = #"{"chat": {"class": "chat"}}"#
        var server = try await ServerProcess.start(kinds: kinds, dataDirectory: directory)
        let follower = Follower()
        let reader = try await server.socket(follower.path(room: "k"))
        try await reader.waitFor(1, "welcome")
        let ann = try await server.socket("/rooms/chat/k/ws?user=ann")
        try await ann.waitFor(1, "welcome")
        for index in 1...20 { ann.send(json: ["type": "send", "id": "a\(index)", "text": "before \(index)"]) }
        try await ann.waitFor(20, "ack")
        try await reader.waitFor(5, "message")
        try await reader.close()
        follower.take(reader)
        for index in 21...40 { ann.send(json: ["type": "send", "id": "a\(index)", "text": "missed \(index)"]) }
        try await ann.waitFor(40, "ack")
        #expect(try await server.stop(signal: SIGKILL) == SIGKILL)

        server = try await ServerProcess.start(kinds: kinds, dataDirectory: directory)
        let resumed = try await server.socket(follower.path(room: "k"))
        try await resumed.waitFor(1, "welcome")
        try await eventually("replayed up to 40") { resumed.frames(ofType: "message").last?["seq"] as? Int == 40 }
        try await resumed.close()
        follower.take(resumed)
        #expect(follower.gaps.isEmpty, "\(follower.gaps)")
        #expect(follower.seen == Array(1...40))
        #expect(try await server.stop() == 0)
    }
}
