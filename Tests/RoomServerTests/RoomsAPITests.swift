import Foundation
import RoomTesting
import HTTPTypes
import NIOWebSocket
@_spi(Node) import RoomRuntime
import RoomServer
import TestSupport
import Testing
import WSCore

@Suite("Listing, deletion, metrics and heartbeat", .watched)
struct RoomsAPITests {
    @Test("GET /rooms pages through the directory by kind and prefix; every room exactly once")
    func listing() async throws {
        let server = try await TestServer.start()
        let ids = (0..<7).map { "topic-\($0)" } + ["other-1", "other-2"]
        for id in ids {
            let posted = try await server.http(.post, "/rooms/chat/\(id)/messages", body: #"{"user":"ann","text":"hi"}"#)
            #expect(posted.status == 201)
        }
        var seen: [String] = []
        var cursor: String?
        var pages = 0
        repeat {
            let query = "/rooms?kind=chat&prefix=topic-&limit=3" + (cursor.map { "&cursor=\($0)" } ?? "")
            let page = try await server.http(.get, query)
            #expect(page.status == 200)
            let rooms = page.json["rooms"] as? [[String: Any]] ?? []
            #expect(rooms.count <= 3)
            seen += rooms.compactMap { $0["id"] as? String }
            #expect(rooms.allSatisfy { $0["kind"] as? String == "chat" && $0["lastActiveAt"] is Int })
            cursor = page.json["cursor"] as? String
            pages += 1
        } while cursor != nil && pages < 10
        #expect(seen == ids.filter { $0.hasPrefix("topic-") }.sorted())
        #expect(pages == 3)
        let all = try await server.http(.get, "/rooms").json["rooms"] as? [[String: Any]]
        #expect(all?.count == ids.count)
        try await server.stopAndRemove()
    }

    @Test(
        "GET /rooms refuses garbage with a documented code",
        arguments: [
            ("/rooms?limit=0", 400, "invalid_query"),
            ("/rooms?limit=many", 400, "invalid_query"),
            ("/rooms?limit=100000", 400, "invalid_query"),
            ("/rooms?cursor=%%%", 400, "invalid_query"),
            ("/rooms?cursor=bm90LWEtY3Vyc29y", 400, "invalid_query"),
            ("/rooms?kind=nope", 404, "unknown_kind"),
            ("/rooms?sort=id", 400, "invalid_query"),
            ("/rooms?prefix=" + String(repeating: "x", count: 300), 400, "invalid_query"),
        ])
    func listingGarbage(path: String, status: Int, code: String) async throws {
        let server = try await TestServer.start()
        let result = try await server.http(.get, path)
        #expect(result.status == status, "\(result.body)")
        #expect(result.errorCode == code)
        #expect(try await server.http(.get, "/healthz").status == 200)
        try await server.stopAndRemove()
    }

    @Test("DELETE /rooms/{kind}/{id} closes the room's sockets with 4404, removes its file, then answers 404")
    func deletion() async throws {
        let server = try await TestServer.start()
        let ann = try await server.socket("/rooms/chat/doomed/ws?user=ann")
        ann.send(json: ["type": "send", "text": "last words"])
        try await ann.waitFor(1, "ack")
        #expect(server.dataFiles().contains { $0.hasPrefix("rooms/chat/") && $0.hasSuffix(".sqlite") })

        let deleted = try await server.http(.delete, "/rooms/chat/doomed")
        #expect(deleted.status == 204)
        let close = try await ann.closed()
        #expect(close?.closeCode == .unknown(4404))
        #expect(!server.dataFiles().contains { $0.hasPrefix("rooms/chat/") })
        let info = try await server.http(.get, "/rooms/chat/doomed").json
        #expect(info["lastSeq"] as? Int == 0)
        #expect(try await server.http(.delete, "/rooms/chat/doomed").errorCode == "room_not_found")
        #expect(try await server.http(.delete, "/rooms/chat/never").status == 404)
        #expect(try await server.http(.delete, "/rooms/nokind/x").errorCode == "unknown_kind")
        #expect(try await server.http(.delete, "/rooms/chat/%01").errorCode == "invalid_room_id")
        let listed = try await server.http(.get, "/rooms?kind=chat").json["rooms"] as? [Any]
        #expect(listed?.isEmpty == true)

        // The id is free again: a new room starts from nothing.
        let bob = try await server.socket("/rooms/chat/doomed/ws?user=bob")
        #expect(try await bob.waitFor(1, "welcome")[0]["lastSeq"] as? Int == 0)
        try await bob.close()
        try await server.stopAndRemove()
    }

    @Test("a ping is answered while the room sleeps, without waking it; /metrics shows the runtime's series")
    func heartbeatAndMetrics() async throws {
        let server = try await TestServer.start { $0.runtime.idleTimeout = .milliseconds(100) }
        let ann = try await server.socket("/rooms/chat/quiet/ws?user=ann")
        try await ann.waitFor(1, "welcome")
        try await eventually("the room hibernated") {
            try await server.http(.get, "/rooms/chat/quiet").json["active"] as? Bool == false
        }
        let before = try await Self.metric("rooms_activations_total", server)
        ann.send(#"{"type":"ping","id":"p1"}"#)
        let pong = try await ann.waitFor(1, "pong")[0]
        #expect(pong["id"] as? String == "p1")
        #expect(try await server.http(.get, "/rooms/chat/quiet").json["active"] as? Bool == false)
        #expect(try await Self.metric("rooms_activations_total", server) == before)
        #expect(try await Self.metric("rooms_hibernated_with_connections", server) == 1)

        let text = try await server.http(.get, "/metrics").body
        for series in [
            "rooms_active", "rooms_open_databases", "rooms_shard_queue_depth{shard=\"0\"}",
            "rooms_turn_duration_seconds_bucket", "rooms_schedule_lateness_seconds",
            "rooms_hibernations_total{reason=\"idle\"}", "rooms_activations_waiting",
        ] {
            #expect(text.contains(series), "missing \(series)")
        }
        try await ann.close()
        try await server.stopAndRemove()
    }

    @Test("rooms_websockets_open counts a WebSocket from its upgrade until its connection closes, closing handshake included")
    func openWebSocketsGauge() async throws {
        let server = try await TestServer.start()
        let connection = try await RawConnection.webSocket(port: server.port, path: "/rooms/chat/gauge/ws?user=ann")
        defer { connection.close() }
        try await eventually("one WebSocket open") { try await Self.metric("rooms_websockets_open", server) == 1 }
        // A text message that is not UTF-8: the server closes with 1007 and waits for the client's
        // answer, the connection still open.
        connection.send(RawWebSocketFrame.client(RawWebSocketFrame.text, [0x7B, 0xC3, 0x28, 0x7D]))
        let (bytes, _) = await connection.read(timeout: .seconds(15)) {
            RawWebSocketFrame.parseAll($0).contains { $0.opcode == RawWebSocketFrame.close }
        }
        #expect(RawWebSocketFrame.parseAll(bytes).last?.closeCode == 1007)
        #expect(try await Self.metric("rooms_websockets_open", server) == 1)
        connection.send(RawWebSocketFrame.clientClose(code: 1007))
        #expect(await connection.read(timeout: .seconds(15)).closed)
        try await eventually("no WebSocket open") { try await Self.metric("rooms_websockets_open", server) == 0 }
        try await server.stopAndRemove()
    }

    /// The value of a series without labels in `/metrics`.
    static func metric(_ name: String, _ server: TestServer) async throws -> Double? {
        let text = try await server.http(.get, "/metrics").body
        return text.split(separator: "\n").first { $0.hasPrefix(name + " ") }
            .flatMap { Double($0.split(separator: " ").last ?? "") }
    }
}
