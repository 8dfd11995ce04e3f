import Foundation
import RoomTesting
import HTTPTypes
import TestSupport
import Testing

/// `rooms serve` under a low `ulimit -n`, with more clients than descriptors.
@Suite("A descriptor limit", .watched)
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
        let started = ContinuousClock.now
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

        // Refusals are logged, at most once a second, each line counting those since the last.
        let seconds = Int((ContinuousClock.now - started).components.seconds) + 1
        let refusalLines = server.output.split(separator: "\n").filter { $0.contains("with 503 too_many_connections") }
        let refusedCount = outcomes.filter { $0 == .refused(503, "too_many_connections") }.count
        let logged = refusalLines.compactMap { line in
            line.firstRange(of: #/refused (\d+) connection/#).flatMap { Int(line[$0].split(separator: " ")[1]) }
        }
        #expect(!refusalLines.isEmpty, "no refusal was logged")
        #expect(refusalLines.count <= seconds, "\(refusalLines.count) refusal lines in \(seconds) s")
        #expect(logged.count == refusalLines.count && logged.reduce(0, +) <= refusedCount, "\(refusalLines)")
        #expect(server.output.contains("descriptor limit 128: up to 4 open room files"))

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

    @Test(
        "a storage.maxOpenDatabases that the descriptor limit cannot hold is lowered at start and logged, and rooms past it still open: their files take turns"
    )
    func openDatabasesFittedToTheLimit() async throws {
        let data = FileManager.default.temporaryDirectory.appendingPathComponent("rooms-fd-\(UUID())")
        defer { try? FileManager.default.removeItem(at: data) }
        // 128 descriptors: room files may take a third, 42, so 14 files of 3 descriptors.
        let server = try await ServerProcess.start(
            kinds: #"{"chat": {"class": "chat"}}"#, dataDirectory: data, maxOpenDatabases: 2_000, descriptorLimit: 128)
        #expect(server.output.contains("storage.maxOpenDatabases lowered from 2000 to 14"), "\(server.output)")
        // More rooms than files may stay open, each written and read back over HTTP.
        for index in 0..<40 {
            let sent = try await server.http(.post, "/rooms/chat/f\(index)/messages", body: #"{"user": "u", "text": "m\#(index)"}"#)
            #expect(sent.status == 201, "\(sent.body)")
        }
        for index in 0..<40 {
            let history = try await server.http(.get, "/rooms/chat/f\(index)/messages?user=u")
            #expect(history.status == 200 && history.body.contains("m\(index)"), "\(history.body)")
        }
        let metrics = try await server.http(.get, "/metrics").body
        let open = metrics.split(separator: "\n").first { $0.hasPrefix("rooms_open_databases ") }
        let count = open.flatMap { Double($0.split(separator: " ")[1]) } ?? -1
        #expect(count >= 0 && count <= 14, "\(open ?? "no rooms_open_databases")")
        #expect(try await server.stop() == 0)
    }
}
