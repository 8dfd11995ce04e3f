import Foundation
import HTTPTypes
@_spi(Node) import RoomRuntime
import RoomServer
import TestSupport
import Testing

@Suite("Long polling", .watched)
struct LongPollTests {
    static func seqs(_ result: HTTPResult) -> [Int] {
        ((result.json["messages"] as? [[String: Any]]) ?? []).compactMap { $0["seq"] as? Int }
    }

    static func post(_ server: TestServer, _ room: String, _ text: String) async throws {
        let posted = try await server.http(.post, "/rooms/chat/\(room)/messages", body: #"{"user": "bob", "text": "\#(text)"}"#)
        #expect(posted.status == 201)
    }

    @Test("a poll answers at once when messages exist, soon after the commit when one arrives, and with an empty page when its wait runs out")
    func waitsForTheNextMessage() async throws {
        let server = try await TestServer.start()
        defer { Task { try? await server.stopAndRemove() } }
        try await Self.post(server, "lp", "one")
        try await Self.post(server, "lp", "two")

        var started = ContinuousClock.now
        let ready = try await server.http(.get, "/rooms/chat/lp/messages?after=0&wait=30")
        #expect(ready.status == 200)
        #expect(Self.seqs(ready) == [1, 2])
        #expect(ContinuousClock.now - started < .seconds(10), "it did not wait: there was something to read")

        started = ContinuousClock.now
        let poll = Task { try await server.http(.get, "/rooms/chat/lp/messages?after=2&wait=30") }
        try await Task.sleep(for: .milliseconds(300))
        try await Self.post(server, "lp", "three")
        let woken = try await poll.value
        #expect(Self.seqs(woken) == [3])
        #expect(ContinuousClock.now - started < .seconds(10), "woken by the commit, not by its 30 s wait")

        started = ContinuousClock.now
        let empty = try await server.http(.get, "/rooms/chat/lp/messages?after=3&wait=1")
        #expect(empty.status == 200)
        #expect(empty.json["messages"] as? [Any] != nil && Self.seqs(empty).isEmpty)
        #expect(ContinuousClock.now - started >= .milliseconds(900), "it waited for its wait")
        #expect(server.server.longPollsWaiting == 0)
    }

    @Test("a waiting poll does not keep its room in memory, and the room's next message still wakes it")
    func roomHibernatesUnderAPoll() async throws {
        let server = try await TestServer.start { configuration in
            configuration.runtime.idleTimeout = .milliseconds(200)
        }
        defer { Task { try? await server.stopAndRemove() } }
        try await Self.post(server, "nap", "one")
        let poll = Task { try await server.http(.get, "/rooms/chat/nap/messages?after=1&wait=30") }
        let deadline = ContinuousClock.now + .seconds(15)
        while try await server.http(.get, "/rooms/chat/nap").json["active"] as? Bool != false || server.server.longPollsWaiting != 1 {
            guard ContinuousClock.now < deadline else { Issue.record("the room stayed in memory under a poll"); break }
            try await Task.sleep(for: .milliseconds(50))
        }
        try await Self.post(server, "nap", "two")
        #expect(Self.seqs(try await poll.value) == [2])
    }

    @Test("a bad wait is invalid_query; past server.maxWaitingPolls a poll gets 503 too_many_waiters with Retry-After; deletion and shutdown end waiting polls")
    func limitsAndGarbage() async throws {
        let server = try await TestServer.start { configuration in
            configuration.maxWaitingPolls = 1
        }
        defer { Task { try? await server.stopAndRemove() } }
        for wait in ["0", "31", "-1", "1.5", "abc", "", "%201", "999999999999999999999"] {
            let refused = try await server.http(.get, "/rooms/chat/bad/messages?after=0&wait=\(wait)")
            #expect(refused.status == 400, "wait=\(wait)")
            #expect((refused.json["error"] as? [String: Any])?["code"] as? String == "invalid_query", "wait=\(wait)")
        }
        #expect(try await server.http(.get, "/rooms/chat/bad").json["exists"] as? Bool == false)
        let files = FileManager.default.enumerator(atPath: server.dataDirectory.appendingPathComponent("rooms").path)?
            .allObjects as? [String] ?? []
        #expect(!files.contains { $0.hasSuffix(".sqlite") }, "refused polls create no room file: \(files)")

        try await Self.post(server, "full", "one")
        let first = Task { try await server.http(.get, "/rooms/chat/full/messages?after=1&wait=30") }
        let deadline = ContinuousClock.now + .seconds(10)
        while server.server.longPollsWaiting != 1, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(10)) }
        let second = try await server.http(.get, "/rooms/chat/full/messages?after=1&wait=30")
        #expect(second.status == 503)
        #expect((second.json["error"] as? [String: Any])?["code"] as? String == "too_many_waiters")
        #expect(second.headers[.retryAfter] != nil)

        var started = ContinuousClock.now
        #expect(try await server.http(.delete, "/rooms/chat/full").status == 204)
        let afterDeletion = try await first.value
        #expect(afterDeletion.status == 404, "\(afterDeletion.status) \(afterDeletion.body)")
        #expect((afterDeletion.json["error"] as? [String: Any])?["code"] as? String == "room_deleted")
        #expect(ContinuousClock.now - started < .seconds(10), "the deletion ended the wait")

        try await Self.post(server, "last", "one")
        let last = Task { try await server.http(.get, "/rooms/chat/last/messages?after=1&wait=30") }
        while server.server.longPollsWaiting != 1, ContinuousClock.now < deadline + .seconds(10) {
            try await Task.sleep(for: .milliseconds(10))
        }
        started = ContinuousClock.now
        try await server.stop()
        let stopped = try await last.value
        #expect(stopped.status == 503, "\(stopped.status)")
        #expect((stopped.json["error"] as? [String: Any])?["code"] as? String == "shutting_down")
        #expect(ContinuousClock.now - started < .seconds(10), "the shutdown ended the wait")
    }
}
