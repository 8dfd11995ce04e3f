import HTTPTypes
@_spi(Node) import RoomRuntime
import RoomServer
import WSCore
import Foundation
import HTTPTypes
import NIOWebSocket
import TestSupport
import Testing

@Suite("Bad input over WebSocket and HTTP", .watched)
struct BadInputTests {
    static let upgradeHeaders: HTTPFields = [
        .connection: "Upgrade", .upgrade: "websocket", .secWebSocketVersion: "13",
        .secWebSocketKey: "dGhlIHNhbXBsZSBub25jZQ==",
    ]

    @Test("garbage frames get error frames; the connection stays usable and nothing is stored")
    func garbageFrames() async throws {
        let server = try await TestServer.start()
        let ann = try await server.socket("/rooms/chat/garbage/ws?user=ann")
        try await ann.waitFor(1, "welcome")
        let garbage: [(String, String)] = [
            ("{not json", "invalid_json"),
            ("[1, 2, 3]", "invalid_json"),
            ("\"send\"", "invalid_json"),
            ("", "invalid_json"),
            (#"{"text": "no type"}"#, "missing_field"),
            (#"{"type": 7}"#, "invalid_field"),
            (#"{"type": "shout", "id": "g1"}"#, "unknown_type"),
            (#"{"type": "send", "id": "g2"}"#, "missing_field"),
            (#"{"type": "send", "text": "", "id": "g3"}"#, "missing_field"),
            (#"{"type": "send", "text": 42, "id": "g4"}"#, "invalid_field"),
            (#"{"type": "send", "text": "x", "id": 5}"#, "invalid_field"),
            (#"{"type": "send", "text": "x", "id": ""}"#, "invalid_field"),
            ("{\"type\": \"send\", \"text\": \"\(String(repeating: "é", count: 2049))\", \"id\": \"g5\"}", "text_too_long"),
        ]
        for (frame, _) in garbage { ann.send(frame) }
        ann.sendBinary([0xFF, 0x00, 0x01])
        ann.send(json: ["type": "send", "text": "still here", "id": "ok"])

        let errors = try await ann.waitFor(garbage.count + 1, "error")
        #expect(errors.map { $0["code"] as? String } == garbage.map(\.1) + ["binary_unsupported"])
        // The id is echoed whenever it could be read, even when it is itself the problem.
        #expect(errors.map { $0["id"] as? String } == [nil, nil, nil, nil, nil, nil, "g1", "g2", "g3", "g4", nil, "", "g5", nil])
        for error in errors { #expect((error["message"] as? String)?.isEmpty == false) }
        let acks = try await ann.waitFor(1, "ack")
        #expect(acks.map { $0["seq"] as? Int } == [1], "only the valid message was stored")
        #expect(try await server.http(.get, "/rooms/chat/garbage").json["lastSeq"] as? Int == 1)
        try await ann.close()
        try await server.stopAndRemove()
    }

    @Test("a message over the size limit closes the connection with 1009, and nothing of it is stored")
    func oversizedMessage() async throws {
        let server = try await TestServer.start { $0.maxFrameBytes = 2_048 }
        let ann = try await server.socket("/rooms/chat/big/ws?user=ann")
        try await ann.waitFor(1, "welcome")
        ann.send(json: ["type": "send", "text": String(repeating: "x", count: 4_000)])
        let close = try await ann.closed()
        #expect(close?.closeCode == .messageTooLarge)
        #expect(try await server.http(.get, "/rooms/chat/big").json["lastSeq"] as? Int == 0)
        // The server is fine.
        let bob = try await server.socket("/rooms/chat/big/ws?user=bob")
        bob.send(json: ["type": "send", "text": "small"])
        #expect(try await bob.waitFor(1, "ack")[0]["seq"] as? Int == 1)
        try await bob.close()
        try await server.stopAndRemove()
    }

    @Test(
        "refused upgrades are answered before any upgrade, with no file created",
        arguments: [
            ("/rooms/nope/lobby/ws?user=ann", 404, "unknown_kind"),
            ("/rooms/chat/bad%00id/ws?user=ann", 400, "invalid_room_id"),
            ("/rooms/chat/\(String(repeating: "x", count: 257))/ws?user=ann", 400, "invalid_room_id"),
            ("/rooms/chat/bad%ZZ/ws?user=ann", 400, "invalid_room_id"),
            ("/rooms/Chat/lobby/ws?user=ann", 400, "invalid_kind"),
            ("/rooms/chat/lobby/ws", 400, "invalid_user"),
            ("/rooms/chat/lobby/ws?user=", 400, "invalid_user"),
            ("/rooms/chat/lobby/ws?user=a%0Ab", 400, "invalid_user"),
            ("/rooms/chat/lobby/ws/extra?user=ann", 404, "not_found"),
        ])
    func refusedUpgrades(path: String, status: Int, code: String) async throws {
        let server = try await TestServer.start()
        let upgrade = try await server.http(.get, path, headers: Self.upgradeHeaders)
        #expect(upgrade.status == status)
        #expect(upgrade.errorCode == code)
        await #expect(throws: (any Error).self) { try await server.socket(path) }
        #expect(!server.dataFiles().contains { $0.hasPrefix("rooms/") })
        try await server.stopAndRemove()
    }

    @Test("HTTP errors have documented statuses and codes, and create nothing")
    func httpErrors() async throws {
        let server = try await TestServer.start { $0.maxBodyBytes = 2_048 }
        let cases: [(HTTPRequest.Method, String, String?, Int, String)] = [
            (.get, "/rooms/nope/x", nil, 404, "unknown_kind"),
            (.get, "/rooms/chat/%01", nil, 400, "invalid_room_id"),
            (.get, "/rooms/chat/x/elsewhere", nil, 404, "not_found"),
            (.get, "/rooms/chat/x/%zz", nil, 400, "invalid_path"),
            (.post, "/rooms/chat/x/messages/%E9", "{}", 400, "invalid_path"),
            (.get, "/nowhere", nil, 404, "not_found"),
            (.get, "/rooms/chat/x/ws?user=ann", nil, 426, "upgrade_required"),
            (.get, "/rooms/chat/x/messages?limit=0", nil, 400, "invalid_query"),
            (.get, "/rooms/chat/x/messages?limit=abc", nil, 400, "invalid_query"),
            (.get, "/rooms/chat/x/messages?after=-1", nil, 400, "invalid_query"),
            (.get, "/rooms/chat/x/messages?limit=501", nil, 400, "invalid_query"),
            (.get, "/rooms/chat/x/messages?colour=red", nil, 400, "invalid_query"),
            (.delete, "/rooms/chat/x/messages", nil, 405, "method_not_allowed"),
            (.post, "/rooms/chat/x/messages", "not json", 400, "invalid_json"),
            (.post, "/rooms/chat/x/messages", #"{"text":"hi"}"#, 400, "missing_field"),
            (.post, "/rooms/chat/x/messages", #"{"user":"ann"}"#, 400, "missing_field"),
            (.post, "/rooms/chat/x/messages", #"{"user":"","text":"hi"}"#, 400, "invalid_user"),
            (.post, "/rooms/chat/x/messages", #"{"user":"ann","text":["hi"]}"#, 400, "invalid_field"),
            (.post, "/rooms/chat/x/messages", String(repeating: "x", count: 4_000), 413, "payload_too_large"),
        ]
        for (method, path, body, status, code) in cases {
            let result = try await server.http(method, path, body: body)
            #expect(result.status == status, "\(method) \(path)")
            #expect(result.errorCode == code, "\(method) \(path): \(result.body)")
        }
        let info = try await server.http(.get, "/rooms/chat/x").json
        #expect(info["lastSeq"] as? Int == 0)
        try await server.stopAndRemove()
    }
}
