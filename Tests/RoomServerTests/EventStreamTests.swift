import AIRooms
import AsyncHTTPClient
import Foundation
import HTTPTypes
import NIOCore
import NIOHTTP1
@_spi(Node) import RoomRuntime
import RoomServer
import RoomTesting
import Synchronization
import TestSupport
import Testing

/// A Server-Sent Events client over AsyncHTTPClient: the raw bytes it read, and the events parsed
/// by the SSE parser the AI rooms use for model providers (not the server's code).
final class EventStreamClient: Sendable {
    let status: UInt
    let contentType: String?
    private let state = Mutex<(raw: String, events: [ServerSentEvent], ended: Bool)>(("", [], false))
    private let reader: Task<Void, Never>

    private init(status: UInt, contentType: String?, reader: Task<Void, Never>) {
        self.status = status
        self.contentType = contentType
        self.reader = reader
    }

    /// Opens `path` with `headers`; the body is read in the background.
    static func open(port: Int, _ path: String, headers: [(String, String)] = []) async throws -> EventStreamClient {
        var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)\(path)")
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(10))
        let box = Mutex<EventStreamClient?>(nil)
        let reader = Task {
            var parser = ServerSentEventParser()
            do {
                for try await chunk in response.body {
                    let bytes = Array(chunk.readableBytesView)
                    let events = (try? parser.feed(bytes)) ?? []
                    box.withLock { client in
                        client?.state.withLock { state in
                            state.raw += String(decoding: bytes, as: UTF8.self)
                            state.events += events
                        }
                    }
                }
            } catch {}
            box.withLock { client in client?.state.withLock { $0.ended = true } }
        }
        let client = EventStreamClient(
            status: response.status.code, contentType: response.headers.first(name: "content-type"), reader: reader)
        box.withLock { $0 = client }
        return client
    }

    var raw: String { state.withLock { $0.raw } }
    var events: [ServerSentEvent] { state.withLock { $0.events } }
    var ended: Bool { state.withLock { $0.ended } }

    /// The events named `name`, their data decoded as JSON objects.
    func objects(_ name: String) -> [[String: Any]] {
        events.filter { $0.event == name }.compactMap {
            try? JSONSerialization.jsonObject(with: Data($0.data.utf8)) as? [String: Any]
        }
    }

    /// Waits until `count` events named `name` arrived.
    @discardableResult
    func waitFor(_ count: Int, _ name: String, timeout: Duration = .seconds(10)) async throws -> [ServerSentEvent] {
        try await eventually("\(count) '\(name)' events; got \(events.map { $0.event ?? "-" })", timeout: timeout) {
            events.filter { $0.event == name }.count >= count
        }
        return events.filter { $0.event == name }
    }

    func close() {
        reader.cancel()
    }
}

@Suite("Server-Sent Events", .watched)
struct EventStreamTests {
    @Test("a stream gets the welcome, then each stored message as an event whose id is its seq; Last-Event-ID resumes with no gap; it counts as a connection")
    func streamAndResume() async throws {
        let server = try await TestServer.start()
        defer { Task { try? await server.stopAndRemove() } }
        let first = try await EventStreamClient.open(port: server.port, "/rooms/chat/sse/events?user=ann")
        #expect(first.status == 200)
        #expect(first.contentType?.hasPrefix("text/event-stream") == true)
        let welcome = try await first.waitFor(1, "welcome")[0]
        let welcomeObject = try #require(try JSONSerialization.jsonObject(with: Data(welcome.data.utf8)) as? [String: Any])
        #expect(welcomeObject["type"] as? String == "welcome")
        #expect(welcome.id == nil, "only stored messages carry an id")

        for index in 1...3 {
            let posted = try await server.http(
                .post, "/rooms/chat/sse/messages", body: #"{"user": "bob", "text": "line \#(index)\nnext"}"#)
            #expect(posted.status == 201)
        }
        let messages = try await first.waitFor(3, "message")
        #expect(messages.map(\.id) == ["1", "2", "3"])
        #expect(first.objects("message").map { $0["seq"] as? Int } == [1, 2, 3])
        #expect(first.objects("message").map { $0["text"] as? String } == ["line 1\nnext", "line 2\nnext", "line 3\nnext"])
        #expect(try await server.http(.get, "/rooms/chat/sse").json["connections"] as? Int == 1)
        first.close()

        // The browser's EventSource reconnects with the last id it saw.
        let second = try await EventStreamClient.open(
            port: server.port, "/rooms/chat/sse/events?user=ann", headers: [("Last-Event-ID", "1")])
        try await second.waitFor(2, "message")
        _ = try await server.http(.post, "/rooms/chat/sse/messages", body: #"{"user": "bob", "text": "live"}"#)
        let resumed = try await second.waitFor(3, "message")
        #expect(resumed.map(\.id) == ["2", "3", "4"], "messages 2 and 3 replayed, then 4 live: no gap, no repeat")
        #expect(second.objects("welcome").first?["recovered"] as? Bool == true)
        second.close()
    }

    @Test("a stream stays open while its room hibernates, sends keep-alive comments, and leaves the room when its client goes")
    func hibernationAndKeepAlive() async throws {
        let server = try await TestServer.start { configuration in
            configuration.runtime.idleTimeout = .milliseconds(200)
            configuration.eventStreamKeepAlive = .milliseconds(300)
        }
        defer { Task { try? await server.stopAndRemove() } }
        let stream = try await EventStreamClient.open(port: server.port, "/rooms/chat/nap/events?user=ann")
        try await stream.waitFor(1, "welcome")
        try await eventually("the room hibernated") {
            try await server.http(.get, "/rooms/chat/nap").json["active"] as? Bool == false
        }
        #expect(try await server.http(.get, "/rooms/chat/nap").json["connections"] as? Int == 1)
        _ = try await server.http(.post, "/rooms/chat/nap/messages", body: #"{"user": "bob", "text": "wake"}"#)
        try await stream.waitFor(1, "message")
        try await eventually("a keep-alive comment") { stream.raw.contains(": keep-alive\n\n") }
        // A client that goes away is noticed at the next keep-alive at the latest.
        stream.close()
        try await eventually("the stream left the room") {
            try await server.http(.get, "/rooms/chat/nap").json["connections"] as? Int == 0
        }
    }

    @Test("a deleted room ends its streams with a close event 4404; a shutdown ends the others with 1001")
    func streamsEnd() async throws {
        let server = try await TestServer.start()
        defer { Task { try? await server.stopAndRemove() } }
        let doomed = try await EventStreamClient.open(port: server.port, "/rooms/chat/doomed/events?user=ann")
        let kept = try await EventStreamClient.open(port: server.port, "/rooms/chat/kept/events?user=ann")
        try await doomed.waitFor(1, "welcome")
        try await kept.waitFor(1, "welcome")
        _ = try await server.http(.post, "/rooms/chat/doomed/messages", body: #"{"user": "bob", "text": "hi"}"#)
        try await doomed.waitFor(1, "message")
        #expect(try await server.http(.delete, "/rooms/chat/doomed").status == 204)
        let deleted = try await doomed.waitFor(1, "close")
        #expect(doomed.objects("close").first?["code"] as? Int == 4404)
        #expect(doomed.objects("error").first?["code"] as? String == "room_deleted")
        #expect(deleted.count == 1)
        try await eventually("the response ends after the close event") { doomed.ended }

        try await server.stop()
        // The server wrote them before it stopped; the client reads them in its own time.
        try await eventually("the kept stream's close, then its end") { kept.ended }
        #expect(kept.objects("close").first?["code"] as? Int == 1001)
    }

    @Test("bad resume points, a missing user and unknown rooms are refused with their codes, and create nothing")
    func garbage() async throws {
        let server = try await TestServer.start()
        defer { Task { try? await server.stopAndRemove() } }
        let cases: [(path: String, headers: [(String, String)], status: UInt, code: String)] = [
            ("/rooms/chat/g/events?user=ann", [("Last-Event-ID", "abc")], 400, "invalid_query"),
            ("/rooms/chat/g/events?user=ann", [("Last-Event-ID", "-1")], 400, "invalid_query"),
            ("/rooms/chat/g/events?user=ann", [("Last-Event-ID", "99999999999999999999999")], 400, "invalid_query"),
            ("/rooms/chat/g/events?user=ann&after=1x", [], 400, "invalid_query"),
            ("/rooms/chat/g/events?user=ann&after=1&epoch=%00", [], 400, "invalid_query"),
            ("/rooms/chat/g/events", [], 400, "invalid_user"),
            ("/rooms/nope/g/events?user=ann", [], 404, "unknown_kind"),
        ]
        for item in cases {
            let stream = try await EventStreamClient.open(port: server.port, item.path, headers: item.headers)
            try await eventually("the refusal was read") { stream.ended }
            #expect(stream.status == item.status, "\(item.path) \(item.headers)")
            let body = try? JSONSerialization.jsonObject(with: Data(stream.raw.utf8)) as? [String: Any]
            #expect((body?["error"] as? [String: Any])?["code"] as? String == item.code, "\(item.path): \(stream.raw)")
        }
        #expect(try await server.http(.get, "/rooms/chat/g").json["exists"] as? Bool == false)
        let rooms = server.dataDirectory.appendingPathComponent("rooms")
        let files = (FileManager.default.enumerator(atPath: rooms.path)?.allObjects as? [String]) ?? []
        #expect(!files.contains { $0.hasSuffix(".sqlite") }, "no room file: \(files)")
    }
}
