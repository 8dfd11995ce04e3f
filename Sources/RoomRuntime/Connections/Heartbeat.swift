import Foundation

/// The application-level heartbeat every kind of room shares: `{"type": "ping", "id"?}` is
/// answered `{"type": "pong", "id"?}` by the runtime itself.
enum Heartbeat {
    /// The longest text that can be a ping; longer frames go to the room untouched.
    static let maxPingBytes = 256

    private struct Ping: Decodable {
        let type: String
        let id: String?
    }

    private struct Pong: Encodable {
        let type = "pong"
        let id: String?
    }

    /// The pong for `text` when it is a ping, else nil. Cheap for anything that is not a ping:
    /// only short text mentioning `"ping"` is decoded.
    static func pong(answering text: String) -> OutboundFrame? {
        guard text.utf8.count <= maxPingBytes, mentionsPing(text.utf8) else { return nil }
        guard let ping = try? JSONDecoder().decode(Ping.self, from: Data(text.utf8)), ping.type == "ping" else {
            return nil
        }
        return try? OutboundFrame.json(Pong(id: ping.id))
    }

    private static let needle: [UInt8] = Array("\"ping\"".utf8)

    private static func mentionsPing(_ bytes: String.UTF8View) -> Bool {
        ByteSearch.contains(bytes, needle)
    }
}
