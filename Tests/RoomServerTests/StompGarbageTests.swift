import Foundation
import HTTPTypes
import WSCore
@_spi(Node) import RoomRuntime
import RoomServer
import RoomTesting
import TestSupport
import Testing

/// Broken STOMP: every frame here is answered by `ERROR` with its documented code (and the
/// `receipt-id` of a frame that had a `receipt`), the connection is closed, nothing is stored,
/// and the node goes on serving.
@Suite("STOMP garbage", .watched)
struct StompGarbageTests {
    static let maxFrameBytes = 2_048

    /// A frame as raw text (the NUL is the caller's to add or leave out).
    static func raw(_ command: String, _ headers: [String], _ body: String = "") -> String {
        ([command] + headers).joined(separator: "\n") + "\n\n" + body
    }

    /// Cases sent right after a good `CONNECT`: (name, message, expected `message` header, receipt-id).
    static let afterConnect: [(String, String, String, String?)] = [
        ("a frame without its NUL", raw("SEND", ["destination:/topic/rooms/chat/g1", "receipt:r1"], "hello"), "invalid_frame", "r1"),
        ("an unknown command", raw("FLY", ["receipt:r2"]) + "\0", "unknown_command", "r2"),
        ("a lower-case command", raw("send", ["destination:/topic/rooms/chat/g2"], "x") + "\0", "unknown_command", nil),
        ("a server's command", raw("MESSAGE", ["destination:/topic/rooms/chat/g2"], "x") + "\0", "unknown_command", nil),
        ("SEND without destination", raw("SEND", ["receipt:r3"], #"{"text":"x"}"#) + "\0", "missing_header", "r3"),
        ("a destination that is not a room", raw("SEND", ["destination:/queue/g3"], "x") + "\0", "invalid_destination", nil),
        ("a destination without an id", raw("SEND", ["destination:/topic/rooms/chat"], "x") + "\0", "invalid_destination", nil),
        ("an unknown kind", raw("SUBSCRIBE", ["destination:/topic/rooms/nope/g4", "id:1", "receipt:r4"]) + "\0", "unknown_kind", "r4"),
        ("a malformed kind", raw("SEND", ["destination:/topic/rooms/Chat!/g5"], "x") + "\0", "invalid_kind", nil),
        ("a content-length longer than the body", raw("SEND", ["destination:/topic/rooms/chat/g6", "content-length:50"], "hello") + "\0", "invalid_frame", nil),
        ("a content-length shorter than the body", raw("SEND", ["destination:/topic/rooms/chat/g7", "content-length:2", "receipt:r7"], "hello") + "\0", "invalid_frame", "r7"),
        ("a content-length that is not a number", raw("SEND", ["destination:/topic/rooms/chat/g8", "content-length:ten"], "x") + "\0", "invalid_header", nil),
        ("a body over server.maxFrameBytes", raw("SEND", ["destination:/topic/rooms/chat/g9"], String(repeating: "x", count: maxFrameBytes + 1)) + "\0", "payload_too_large", nil),
        ("a content-length over server.maxFrameBytes", raw("SEND", ["destination:/topic/rooms/chat/g10", "content-length:9999999"], "x") + "\0", "payload_too_large", nil),
        ("a header line without ':'", raw("SEND", ["destination"], "x") + "\0", "invalid_frame", nil),
        ("an escape STOMP does not define", raw("SEND", ["destination:/topic/rooms/chat/g11\\t"], "x") + "\0", "invalid_frame", nil),
        ("headers that never end", "SEND\ndestination:/topic/rooms/chat/g12\n", "invalid_frame", nil),
        ("too many headers", raw("SEND", ["destination:/topic/rooms/chat/g13"] + (0..<70).map { "x-\($0):\($0)" }, "x") + "\0", "invalid_frame", nil),
        ("SUBSCRIBE without an id", raw("SUBSCRIBE", ["destination:/topic/rooms/chat/g14"]) + "\0", "missing_header", nil),
        ("SUBSCRIBE with an unknown ack mode", raw("SUBSCRIBE", ["destination:/topic/rooms/chat/g15", "id:1", "ack:never"]) + "\0", "invalid_header", nil),
        ("SUBSCRIBE with a bad x-after", raw("SUBSCRIBE", ["destination:/topic/rooms/chat/g16", "id:1", "x-after:-3"]) + "\0", "invalid_header", nil),
        ("UNSUBSCRIBE of no subscription", raw("UNSUBSCRIBE", ["id:nothing"]) + "\0", "invalid_subscription", nil),
        ("COMMIT of no transaction", raw("COMMIT", ["transaction:t9"]) + "\0", "invalid_transaction", nil),
        ("SEND in no transaction", raw("SEND", ["destination:/topic/rooms/chat/g17", "transaction:t9"], "x") + "\0", "invalid_transaction", nil),
        ("ACK without id", raw("ACK", []) + "\0", "missing_header", nil),
        ("a JSON body that is not an object", raw("SEND", ["destination:/topic/rooms/chat/g18", "content-type:application/json"], "[1,2]") + "\0", "invalid_json", nil),
        ("broken JSON", raw("SEND", ["destination:/topic/rooms/chat/g19"], #"{"text": "#) + "\0", "invalid_json", nil),
        ("an unknown content-type", raw("SEND", ["destination:/topic/rooms/chat/g20", "content-type:image/png"], "x") + "\0", "invalid_header", nil),
        ("a message without text", raw("SEND", ["destination:/topic/rooms/chat/g21", "receipt:r21"], #"{"id": "a"}"#) + "\0", "missing_field", "r21"),
        ("a second CONNECT", raw("CONNECT", ["accept-version:1.2", "login:ann"]) + "\0", "unexpected_frame", nil),
        ("a good frame, then a broken one in the same message", raw("SEND", ["destination:/topic/rooms/chat/good", "receipt:ok"], "fine") + "\0" + "BOGUS\n\n\0", "unknown_command", nil),
    ]

    /// Cases sent as the first frame: (name, message, expected `message` header).
    static let beforeConnect: [(String, String, String)] = [
        ("SEND before CONNECT", raw("SEND", ["destination:/topic/rooms/chat/b1"], "x") + "\0", "unexpected_frame"),
        ("CONNECT without login", raw("CONNECT", ["accept-version:1.2"]) + "\0", "invalid_user"),
        ("CONNECT with a malformed login", raw("CONNECT", ["accept-version:1.2", "login:" + String(repeating: "u", count: 300)]) + "\0", "invalid_user"),
        ("CONNECT for a version the server lacks", raw("CONNECT", ["accept-version:2.0,3.1", "login:ann"]) + "\0", "unsupported_version"),
        ("CONNECT with a bad heart-beat", raw("CONNECT", ["accept-version:1.2", "login:ann", "heart-beat:soon"]) + "\0", "invalid_header"),
        ("garbage", "\u{1}\u{2}garbage without a line end", "invalid_frame"),
    ]

    static func start() async throws -> TestServer {
        try await TestServer.start { $0.maxFrameBytes = maxFrameBytes }
    }

    /// Checks that `client` got an `ERROR` with `code` (and `receipt`) and was closed.
    static func expectRefused(_ client: StompTestClient, _ name: String, code: String, receipt: String?) async throws {
        let error = try await client.waitFor("ERROR")[0]
        #expect(error["message"] == code, "\(name): \(error)")
        #expect(error["receipt-id"] == receipt, "\(name): \(error)")
        #expect(error["content-type"]?.hasPrefix("text/plain") == true && !error.body.isEmpty, "\(name): an explanation")
        let close = try await client.socket.closed()
        #expect(close != nil, "\(name): the server closed the socket")
    }

    /// Checks that the node still serves: a fresh session stores and receives a message.
    static func expectServing(_ server: TestServer) async throws {
        let check = try await StompTestClient.connect(server, headers: [("login", "zed")])
        check.send("SUBSCRIBE", [("destination", "/topic/rooms/chat/alive"), ("id", "a")])
        check.send("SEND", [("destination", "/topic/rooms/chat/alive"), ("receipt", "alive")], body: "still serving")
        try await check.waitForReceipt("alive")
        try await check.waitForMessages(1, subscription: "a")
        _ = try await check.socket.close()
    }

    @Test("broken frames after CONNECT: ERROR with the documented code, a close, nothing stored")
    func brokenFrames() async throws {
        let server = try await Self.start()
        defer { Task { try? await server.stopAndRemove() } }
        for (name, message, code, receipt) in Self.afterConnect {
            let client = try await StompTestClient.connect(server, headers: [("login", "ann")])
            client.sendRaw(message)
            try await Self.expectRefused(client, name, code: code, receipt: receipt)
        }
        // Only the one good frame sent before a broken one was stored; no other room was made.
        let rooms = try await server.http(.get, "/rooms").json["rooms"] as? [[String: Any]] ?? []
        #expect(rooms.map { $0["id"] as? String } == ["good"], "\(rooms)")
        let files = server.dataFiles().filter { $0.hasPrefix("rooms/") && $0.hasSuffix(".sqlite") }
        #expect(files.count == 1, "\(files)")
        try await Self.expectServing(server)
    }

    @Test("broken first frames: ERROR with the documented code and a close")
    func brokenConnects() async throws {
        let server = try await Self.start()
        defer { Task { try? await server.stopAndRemove() } }
        for (name, message, code) in Self.beforeConnect {
            let client = try await StompTestClient.open(server)
            client.sendRaw(message)
            try await Self.expectRefused(client, name, code: code, receipt: nil)
            if code == "unsupported_version" {
                #expect(client.frames("ERROR")[0]["version"] == "1.0,1.1,1.2")
            }
        }
        // Bytes that are not UTF-8, in a binary message.
        let binary = try await StompTestClient.open(server)
        binary.socket.sendBinary([0xFF, 0xFE, 0x0A, 0x0A, 0x00])
        try await Self.expectRefused(binary, "a command that is not UTF-8", code: "invalid_frame", receipt: nil)
        #expect(server.dataFiles().filter { $0.hasPrefix("rooms/") }.isEmpty)
        try await Self.expectServing(server)
    }

    @Test("a client that never sends CONNECT is closed after server.requestHeaderTimeoutSeconds")
    func noConnect() async throws {
        let server = try await TestServer.start { $0.requestHeaderTimeout = .milliseconds(300) }
        defer { Task { try? await server.stopAndRemove() } }
        let client = try await StompTestClient.open(server)
        try await Self.expectRefused(client, "silence", code: "request_timeout", receipt: nil)
    }

    @Test("a seeded fuzz: 300 frames broken at random (cut before their NUL, bytes thrown into the command, headers without ':', noise) each get ERROR and a close, and the node is unaffected")
    func fuzz() async throws {
        let server = try await Self.start()
        defer { Task { try? await server.stopAndRemove() } }
        var random = SeededRandom(seed: 20_261_130)
        let valid = [
            Self.raw("SEND", ["destination:/topic/rooms/chat/fz", "content-type:application/json", "receipt:1"], #"{"text":"hi","id":"a"}"#),
            Self.raw("SUBSCRIBE", ["destination:/topic/rooms/chat/fz", "id:s", "ack:client", "x-after:0"]),
            Self.raw("BEGIN", ["transaction:t"]),
            Self.raw("ACK", ["id:chat/fz/1"]),
        ]
        let client = try await StompTestClient.connect(server, headers: [("login", "ann")])
        _ = try await client.socket.close()
        for round in 0..<300 {
            var bytes = Array(valid[Int.random(in: 0..<valid.count, using: &random)].utf8)
            switch round % 4 {
            case 0:
                // Cut anywhere after the command's first letter: the NUL never comes.
                bytes = Array(bytes.prefix(Int.random(in: 1...bytes.count, using: &random)))
            case 1:
                let at = Int.random(in: 1..<4, using: &random)
                bytes.insert(UInt8.random(in: 0x01...0x08, using: &random), at: at)
                bytes.append(0)
            case 2:
                let end = bytes.firstIndex(of: 0x0A)!
                bytes.insert(contentsOf: Array("\nno colon here".utf8), at: end)
                bytes.append(0)
            default:
                bytes = [UInt8(ascii: "Z")] + (0..<Int.random(in: 1...200, using: &random)).map { _ in
                    UInt8.random(in: 0x01...0xFF, using: &random)
                }
            }
            let client = try await StompTestClient.connect(server, headers: [("login", "ann")])
            client.socket.sendBinary(bytes)
            let error = try await client.waitFor("ERROR")[0]
            #expect(
                ["invalid_frame", "unknown_command"].contains(error["message"] ?? ""), "round \(round): \(bytes) → \(error)")
            _ = try await client.socket.closed()
        }
        #expect(server.dataFiles().filter { $0.hasPrefix("rooms/") }.isEmpty, "nothing was stored")
        try await Self.expectServing(server)
    }
}
