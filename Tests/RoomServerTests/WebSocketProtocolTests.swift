import Foundation
import HTTPTypes
import RoomTesting
import TestSupport
import Testing

@testable import RoomServer

/// The server's side of RFC 6455, which `WebSocketHandler` speaks by hand: fragments, control
/// frames, the close handshake, the heartbeat, and framing a client gets wrong.
@Suite("The WebSocket protocol, as the server speaks it", .watched)
struct WebSocketProtocolTests {
    typealias Frame = RawWebSocketFrame

    /// Reads until a frame matching `match` arrived (or the connection closed); every frame read.
    static func frames(
        _ connection: RawConnection, until match: @escaping @Sendable (RawWebSocketFrame) -> Bool
    ) async -> (frames: [RawWebSocketFrame], closed: Bool) {
        await connection.readFrames(timeout: .seconds(15), until: match)
    }

    static func json(_ frame: RawWebSocketFrame) -> [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(frame.payload))) as? [String: Any] ?? [:]
    }

    @Test("a message in fragments arrives whole, a multi-byte character split between them included; a ping between fragments is answered with its payload")
    func fragments() async throws {
        let server = try await TestServer.start()
        let ann = try await RawConnection.webSocket(port: server.port, path: "/rooms/chat/frag/ws?user=ann")
        defer { ann.close() }
        _ = await Self.frames(ann) { Self.json($0)["type"] as? String == "welcome" }
        let whole = Array(#"{"type":"send","id":"f1","text":"café"}"#.utf8)
        let split = whole.firstIndex(of: 0xC3)! + 1  // between the two bytes of "é"
        ann.send(Frame.client(Frame.text, Array(whole[..<10]), fin: false))
        ann.send(Frame.client(Frame.ping, Array("are you there".utf8)))
        ann.send(Frame.client(Frame.continuation, Array(whole[10..<split]), fin: false))
        ann.send(Frame.client(Frame.continuation, Array(whole[split...])))
        let (frames, _) = await Self.frames(ann) { Self.json($0)["type"] as? String == "ack" }
        #expect(frames.contains { $0.opcode == Frame.pong && $0.text == "are you there" })
        #expect(frames.compactMap { Self.json($0)["type"] as? String == "ack" ? Self.json($0)["id"] as? String : nil } == ["f1"])
        let history = try await server.http(.get, "/rooms/chat/frag/messages").json["messages"] as? [[String: Any]]
        #expect(history?.map { $0["text"] as? String } == ["café"])
        try await server.stopAndRemove()
    }

    @Test(
        "framing a client gets wrong closes the connection with the matching code, and nothing of the message is stored",
        arguments: [
            ("a continuation with no message started", [Frame.client(Frame.continuation, Array("x".utf8))], 1002),
            (
                "a new message inside a fragmented one",
                [
                    Frame.client(Frame.text, Array(#"{"type":"send","#.utf8), fin: false),
                    Frame.client(Frame.text, Array(#"{"type":"send","text":"b"}"#.utf8)),
                ], 1002
            ),
            ("a reserved opcode", [Frame.client(0x3, Array("x".utf8))], 1002),
            ("a fragmented ping", [Frame.client(Frame.ping, Array("p".utf8), fin: false)], 1002),
            ("a ping over 125 bytes", [Frame.client(Frame.ping, Array(repeating: 0x70, count: 126))], 1002),
            ("one frame over the message limit", [Frame.client(Frame.binary, Array(repeating: 0x62, count: 2_100))], 1009),
            ("reserved bits without an extension", [Frame.client(Frame.text, Array(#"{"type":"send","text":"r"}"#.utf8), reserved: 0x40)], 1002),
            (
                "text that is not UTF-8 once its fragments are joined",
                [
                    Frame.client(Frame.text, Array(#"{"type":"send","text":""#.utf8) + [0xC3], fin: false),
                    Frame.client(Frame.continuation, [0x28] + Array(#""}"#.utf8)),
                ], 1007
            ),
            (
                "fragments that add up to more than the message limit",
                [
                    Frame.client(Frame.text, Array(#"{"type":"send","text":""#.utf8) + Array(repeating: 0x78, count: 1_500), fin: false),
                    Frame.client(Frame.continuation, Array(repeating: 0x78, count: 1_500), fin: false),
                    Frame.client(Frame.continuation, Array(#""}"#.utf8)),
                ], 1009
            ),
        ])
    func badFraming(_ name: String, frames: [[UInt8]], code: Int) async throws {
        let server = try await TestServer.start { $0.maxFrameBytes = 2_048 }
        let ann = try await RawConnection.webSocket(port: server.port, path: "/rooms/chat/framing/ws?user=ann")
        defer { ann.close() }
        _ = await Self.frames(ann) { Self.json($0)["type"] as? String == "welcome" }
        for frame in frames { ann.send(frame) }
        let (read, _) = await Self.frames(ann) { $0.opcode == Frame.close }
        #expect(read.last?.opcode == Frame.close, "\(name): no close")
        #expect(read.last?.closeCode == code, "\(name)")
        #expect(!read.contains { Self.json($0)["type"] as? String == "ack" }, "\(name)")
        // The client answers the close; the server ends the connection.
        ann.send(Frame.clientClose(code: code))
        #expect(await ann.read(timeout: .seconds(15)).closed, "\(name): still open")
        #expect(try await server.http(.get, "/rooms/chat/framing").json["lastSeq"] as? Int == 0, "\(name)")
        // The node is fine.
        let bob = try await server.socket("/rooms/chat/framing/ws?user=bob")
        bob.send(json: ["type": "send", "text": "after"])
        #expect(try await bob.waitFor(1, "ack")[0]["seq"] as? Int == 1)
        try await bob.close()
        try await server.stopAndRemove()
    }

    @Test(
        "a client's close is answered, then the connection closes: 1000 for a valid code, 1002 for a code no one may send or a reason that is not UTF-8",
        arguments: [
            (Frame.clientClose(code: 1000), 1000),
            (Frame.clientClose(code: 4000, reason: Array("bye".utf8)), 1000),
            (Frame.client(Frame.close, []), 1000),
            (Frame.clientClose(code: 1005), 1002),
            (Frame.clientClose(code: 2999), 1002),
            (Frame.clientClose(code: 1000, reason: [0xFF, 0xFE]), 1002),
            (Frame.client(Frame.close, [0x03]), 1002),
        ])
    func clientClose(close: [UInt8], answer: Int) async throws {
        let server = try await TestServer.start()
        let ann = try await RawConnection.webSocket(port: server.port, path: "/rooms/chat/bye/ws?user=ann")
        defer { ann.close() }
        _ = await Self.frames(ann) { Self.json($0)["type"] as? String == "welcome" }
        ann.send(close)
        let (frames, closed) = await Self.frames(ann) { _ in false }
        #expect(frames.last?.opcode == Frame.close)
        #expect(frames.last?.closeCode == answer)
        #expect(closed)
        try await eventually("the room let the connection go") {
            try await server.http(.get, "/rooms/chat/bye").json["connections"] as? Int == 0
        }
        try await server.stopAndRemove()
    }

    @Test("the heartbeat pings every socket; one that did not answer by the next heartbeat is closed with 1001, one that did stays")
    func heartbeat() async throws {
        let server = try await TestServer.start()
        let quiet = try await RawConnection.webSocket(port: server.port, path: "/rooms/chat/beat/ws?user=quiet")
        defer { quiet.close() }
        let lively = try await RawConnection.webSocket(port: server.port, path: "/rooms/chat/beat/ws?user=lively")
        defer { lively.close() }
        for connection in [quiet, lively] {
            _ = await Self.frames(connection) { Self.json($0)["type"] as? String == "welcome" }
        }
        server.server.sockets.heartbeat()
        let (quietFrames, _) = await Self.frames(quiet) { $0.opcode == Frame.ping }
        #expect(quietFrames.contains { $0.opcode == Frame.ping })
        let (livelyFrames, _) = await Self.frames(lively) { $0.opcode == Frame.ping }
        let ping = try #require(livelyFrames.first { $0.opcode == Frame.ping })
        lively.send(Frame.client(Frame.pong, ping.payload))
        // A pong with another payload is not an answer (it would be for the quiet client).
        quiet.send(Frame.client(Frame.pong, Array("not the ping".utf8)))
        // Frames of a socket are handled in order: once the heartbeat sent after each pong is
        // answered, the server has seen the pong.
        for connection in [lively, quiet] {
            connection.send(Frame.client(Frame.text, Array(#"{"type":"ping","id":"after-pong"}"#.utf8)))
            _ = await Self.frames(connection) { Self.json($0)["id"] as? String == "after-pong" }
        }

        server.server.sockets.heartbeat()
        let (closing, _) = await Self.frames(quiet) { $0.opcode == Frame.close }
        #expect(closing.last?.closeCode == 1001)
        #expect(closing.last?.closeReason == "Ping timeout")
        #expect(await quiet.read(timeout: .seconds(15)).closed)
        let (again, closed) = await Self.frames(lively) { $0.opcode == Frame.ping }
        #expect(again.contains { $0.opcode == Frame.ping })
        #expect(!closed)
        try await eventually("one connection left") {
            try await server.http(.get, "/rooms/chat/beat").json["connections"] as? Int == 1
        }
        try await server.stopAndRemove()
    }
}
