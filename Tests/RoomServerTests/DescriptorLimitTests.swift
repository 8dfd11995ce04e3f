import Foundation
import RoomTesting
import HTTPTypes
import Testing

/// `rooms serve` under a low `ulimit -n`, with more clients than descriptors.
@Suite("A descriptor limit")
struct DescriptorLimitTests {
    /// What became of one WebSocket opening.
    enum Outcome: Hashable {
        /// Upgraded, and the room's `welcome` arrived.
        case open
        /// Answered with this status and error code, then closed.
        case refused(Int, String?)
        /// Anything else (no answer, an upgrade without a welcome, a refusal left open).
        case broken(String)
    }

    static func open(port: Int, path: String) async throws -> (RawConnection, Outcome) {
        let connection = try RawConnection(port: port)
        connection.send(
            "GET \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
        let head = Array("\r\n\r\n".utf8)
        let (bytes, closed) = await connection.read(timeout: .seconds(10)) { bytes in
            guard let end = bytes.firstRange(of: head) else { return false }
            if bytes.starts(with: Array("HTTP/1.1 101".utf8)) {
                return RawWebSocketFrame.parseAll(Array(bytes[end.upperBound...])).contains { $0.opcode == RawWebSocketFrame.text }
            }
            return RawHTTPResponse.parseAll(bytes).count == 1
        }
        let text = String(decoding: bytes.prefix(200), as: UTF8.self)
        guard let end = bytes.firstRange(of: head) else { return (connection, .broken("no answer: \(text)")) }
        if bytes.starts(with: Array("HTTP/1.1 101".utf8)) {
            let frames = RawWebSocketFrame.parseAll(Array(bytes[end.upperBound...]))
            // The first text frame: a slow run may see the node's heartbeat ping before it.
            let first = frames.first { $0.opcode == RawWebSocketFrame.text }
            guard first?.text.contains(#""type":"welcome""#) == true, !closed else {
                return (connection, .broken("upgraded without a welcome: \(frames.map(\.text))"))
            }
            return (connection, .open)
        }
        let response = RawHTTPResponse.parseAll(bytes).first
        let rest = closed ? (bytes: [UInt8](), closed: true) : await connection.read(timeout: .seconds(10))
        guard let response, rest.closed else { return (connection, .broken("refused but not closed: \(text)")) }
        return (connection, .refused(response.status, response.errorCode))
    }

    @Test(
        "past what the descriptors allow, WebSockets are refused with 503 too_many_connections, none is left unanswered, rooms still open their files, and rooms_websockets_open counts what the client holds"
    )
    func moreClientsThanDescriptors() async throws {
        let data = FileManager.default.temporaryDirectory.appendingPathComponent("rooms-fd-\(UUID())")
        defer { try? FileManager.default.removeItem(at: data) }
        let server = try await ServerProcess.start(
            kinds: #"{"chat": {"class": "chat"}}"#, dataDirectory: data, maxOpenDatabases: 4, descriptorLimit: 128)
        var held: [RawConnection] = []
        var outcomes: [Outcome] = []
        for index in 0..<160 {
            let (connection, outcome) = try await Self.open(
                port: server.port, path: "/rooms/chat/r\(index % 4)/ws?user=u\(index)")
            outcomes.append(outcome)
            if outcome == .open { held.append(connection) } else { connection.close() }
            if case .broken = outcome { break }
        }
        let broken = outcomes.filter { if case .broken = $0 { true } else { false } }
        #expect(broken.isEmpty, "\(broken)")
        #expect(held.count > 0)
        #expect(outcomes.contains(.refused(503, "too_many_connections")), "no connection was refused")
        #expect(Set(outcomes.filter { $0 != .open }) == [.refused(503, "too_many_connections")])

        // Some clients leave; the node takes connections again, and its gauge counts exactly
        // the WebSockets the client still holds.
        for connection in held.suffix(5) { connection.close() }
        held.removeLast(5)
        try await eventually("rooms_websockets_open == \(held.count)") {
            let metrics = try await server.http(.get, "/metrics").body
            return metrics.split(separator: "\n").contains("rooms_websockets_open \(Double(held.count))")
        }
        let (again, outcome) = try await Self.open(port: server.port, path: "/rooms/chat/r0/ws?user=again")
        #expect(outcome == .open)
        again.close()
        for connection in held { connection.close() }
        #expect(try await server.stop() == 0)
    }
}
