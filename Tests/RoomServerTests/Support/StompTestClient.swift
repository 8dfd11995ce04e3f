import Foundation
import HTTPTypes
import RoomTesting

/// A STOMP frame as the tests read it: written here from the STOMP 1.2 text, not with the
/// server's decoder.
struct StompTestFrame: Sendable, CustomStringConvertible {
    let command: String
    /// Headers, the first occurrence of each (unescaped).
    let headers: [String: String]
    let body: String

    /// Reads one WebSocket message holding one frame; nil for a heart-beat (line ends only).
    static func parse(_ text: String) -> StompTestFrame? {
        guard !text.allSatisfy({ $0 == "\n" || $0 == "\r\n" || $0 == "\r" }) else { return nil }
        let bytes = Array(text.utf8)
        guard let end = bytes.firstIndex(of: 0) else { return StompTestFrame(command: "<no NUL>", headers: [:], body: text) }
        let frame = String(decoding: bytes[..<end], as: UTF8.self)
        let parts = frame.components(separatedBy: "\n\n")
        var lines = parts[0].split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let command = lines.removeFirst()
        var headers: [String: String] = [:]
        for line in lines {
            guard let colon = line.firstIndex(of: ":") else { continue }
            let name = unescape(String(line[..<colon]))
            if headers[name] == nil { headers[name] = unescape(String(line[line.index(after: colon)...])) }
        }
        return StompTestFrame(command: command, headers: headers, body: parts.dropFirst().joined(separator: "\n\n"))
    }

    private static func unescape(_ text: String) -> String {
        text.replacingOccurrences(of: "\\n", with: "\n").replacingOccurrences(of: "\\c", with: ":")
            .replacingOccurrences(of: "\\\\", with: "\\")
    }

    /// The body as a JSON object.
    var json: [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any]) ?? [:]
    }

    subscript(name: String) -> String? { headers[name] }

    var description: String { "\(command) \(headers) \(body.prefix(200))" }
}

/// A STOMP client over the tests' WebSocket client, at `/stomp`.
final class StompTestClient: Sendable {
    let socket: TestSocket

    private init(socket: TestSocket) {
        self.socket = socket
    }

    /// Opens `/stomp` (offering `subprotocol`) without sending anything.
    static func open(_ server: some ServerEndpoint, subprotocol: String? = "v12.stomp") async throws -> StompTestClient {
        var headers: HTTPFields = [:]
        if let subprotocol { headers[HTTPField.Name("Sec-WebSocket-Protocol")!] = subprotocol }
        return StompTestClient(socket: try await server.socket("/stomp", headers: headers))
    }

    /// Opens `/stomp`, sends `CONNECT` with `headers` and waits for `CONNECTED`.
    static func connect(_ server: some ServerEndpoint, headers: [(String, String)]) async throws -> StompTestClient {
        let client = try await open(server)
        client.send("CONNECT", [("accept-version", "1.2"), ("host", "rooms")] + headers)
        try await client.waitFor("CONNECTED")
        return client
    }

    /// Sends a frame: `command`, `headers` (written as given) and `body`.
    func send(_ command: String, _ headers: [(String, String)] = [], body: String = "") {
        var text = command + "\n"
        for (name, value) in headers { text += "\(name):\(value)\n" }
        text += "\n" + body + "\u{0}"
        socket.send(text)
    }

    /// Sends `text` as it is, in one WebSocket message.
    func sendRaw(_ text: String) {
        socket.send(text)
    }

    /// The frames received so far, heart-beats left out.
    var frames: [StompTestFrame] {
        socket.received.compactMap(StompTestFrame.parse)
    }

    /// How many heart-beats (messages of line ends only) arrived.
    var heartBeats: Int {
        socket.received.filter { StompTestFrame.parse($0) == nil }.count
    }

    /// The frames of `command` (matching `filter`).
    func frames(_ command: String, where filter: (StompTestFrame) -> Bool = { _ in true }) -> [StompTestFrame] {
        frames.filter { $0.command == command && filter($0) }
    }

    /// The stored messages a subscription received (`x-type: message`), decoded.
    func messages(subscription: String) -> [[String: Any]] {
        frames("MESSAGE") { $0["subscription"] == subscription && $0["x-type"] == "message" }.map(\.json)
    }

    /// Waits until `count` frames of `command` (matching `filter`) arrived.
    @discardableResult
    func waitFor(
        _ command: String, count: Int = 1, timeout: Duration = .seconds(15),
        where filter: @escaping @Sendable (StompTestFrame) -> Bool = { _ in true }
    ) async throws -> [StompTestFrame] {
        try await eventually("\(count) \(command) frames; got \(frames)", timeout: timeout) {
            self.frames(command, where: filter).count >= count
        }
        return frames(command, where: filter)
    }

    /// Waits for the receipt `id`.
    @discardableResult
    func waitForReceipt(_ id: String) async throws -> StompTestFrame {
        try await waitFor("RECEIPT") { $0["receipt-id"] == id }[0]
    }

    /// Waits for `count` stored messages on `subscription`.
    @discardableResult
    func waitForMessages(_ count: Int, subscription: String) async throws -> [[String: Any]] {
        try await eventually("\(count) messages on \(subscription); got \(frames)") {
            self.messages(subscription: subscription).count >= count
        }
        return messages(subscription: subscription)
    }
}
