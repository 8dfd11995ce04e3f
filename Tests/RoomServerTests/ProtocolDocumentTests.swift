import Foundation
import HTTPTypes
import TestSupport
import Testing

/// The protocol document against what the server does: what a client can observe must be in it.
@Suite("docs/PROTOCOL.md covers what the server shows", .watched)
struct ProtocolDocumentTests {
    static var protocolDocument: String {
        get throws {
            try String(
                contentsOf: RoomsBinary.packageRoot.appendingPathComponent("docs/PROTOCOL.md"), encoding: .utf8)
        }
    }

    @Test("every series /metrics exposes is documented, and every hibernation reason")
    func metricsAreDocumented() async throws {
        let server = try await TestServer.start()
        let metrics = try await server.http(.get, "/metrics").body
        let document = try Self.protocolDocument
        let series = metrics.split(separator: "\n").filter { $0.hasPrefix("# TYPE ") }.map { $0.split(separator: " ")[2] }
        #expect(series.contains("rooms_websockets_open"))
        for name in series {
            #expect(document.contains("| `\(name)` |") || document.contains("| `\(name){"), "\(name) is not documented")
        }
        let row = document.split(separator: "\n").first { $0.hasPrefix("| `rooms_hibernations_total{reason}`") } ?? ""
        // Lines such as `rooms_hibernations_total{reason="idle"} 0`.
        let reasons = metrics.split(separator: "\n").filter { $0.hasPrefix("rooms_hibernations_total{reason=\"") }
            .map { $0.split(separator: "\"")[1] }
        #expect(reasons.contains("restart"))
        for reason in reasons {
            #expect(row.contains("`\(reason)`"), "hibernation reason \(reason) is not documented")
        }
        try await server.stopAndRemove()
    }

    /// The top-level keys of a JSON object's text, in the order they are written.
    static func topLevelKeys(_ text: String) -> [String] {
        var keys: [String] = []
        var depth = 0
        var index = text.startIndex
        var lastString: String?
        while index < text.endIndex {
            let character = text[index]
            switch character {
            case "\"":
                var end = text.index(after: index)
                while end < text.endIndex, text[end] != "\"" {
                    if text[end] == "\\" { end = text.index(after: end) }
                    end = text.index(after: end)
                }
                lastString = String(text[text.index(after: index)..<end])
                index = end
            case ":":
                if depth == 1, let key = lastString { keys.append(key) }
                lastString = nil
            case "{", "[": depth += 1
            case "}", "]": depth -= 1
            default: break
            }
            index = text.index(after: index)
        }
        return keys
    }

    @Test("frames read the same on every run: keys in a fixed order (sorted, or as the protocol writes them)")
    func stableKeyOrder() async throws {
        let server = try await TestServer.start()
        defer { Task { try? await server.stopAndRemove() } }
        let ann = try await server.socket("/rooms/chat/order/ws?user=ann")
        try await ann.waitFor(1, "presence")
        ann.send(json: ["type": "send", "text": "hi", "id": "o-1"])
        try await ann.waitFor(1, "message")
        let texts = ann.received
        let welcome = Self.topLevelKeys(texts.first { $0.contains(#""welcome""#) }!)
        #expect(welcome.count >= 10 && welcome == welcome.sorted(), "\(welcome)")
        let presence = Self.topLevelKeys(texts.first { $0.contains(#""presence""#) }!)
        #expect(presence == presence.sorted(), "\(presence)")
        let message = Self.topLevelKeys(texts.first { $0.contains(#""type":"message""#) }!)
        #expect(message == ["type", "seq", "id", "user", "text", "ts"], "\(message)")
        let error = try await server.http(.get, "/rooms/chat/order/messages?limit=zero")
        #expect(Self.topLevelKeys(error.body) == ["error"])
    }

    @Test("a text message that is not valid UTF-8 closes the connection with 1007, as documented")
    func invalidUTF8ClosesWith1007() async throws {
        let server = try await TestServer.start()
        let connection = try await RawConnection.webSocket(port: server.port, path: "/rooms/chat/utf8/ws?user=ann")
        defer { connection.close() }
        connection.send(RawWebSocketFrame.client(RawWebSocketFrame.text, [0x7B, 0xC3, 0x28, 0x7D]))
        let (bytes, _) = await connection.read(timeout: .seconds(15)) {
            RawWebSocketFrame.parseAll($0).contains { $0.opcode == RawWebSocketFrame.close }
        }
        let close = RawWebSocketFrame.parseAll(bytes).first { $0.opcode == RawWebSocketFrame.close }
        #expect(close?.closeCode == 1007)
        #expect(try Self.protocolDocument.contains("| 1007 |"), "close code 1007 is not documented")
        try await server.stopAndRemove()
    }
}
