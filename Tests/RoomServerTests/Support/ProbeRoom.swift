import Foundation
import RoomTesting
import NIOCore
@_spi(Node) import RoomRuntime

/// A room class for end-to-end tests of the runtime's programming model over real sockets.
///
/// Frames (JSON): `{"type":"tag","tags":[...]}` and `{"type":"attach","note":"..."}` set this
/// connection's tags and attachment; `{"type":"whoami"}` answers
/// `{"type":"me","tags":[...],"note":...,"lastPingAt":...}`; `{"type":"tell","tag":"T","text":"..."}`
/// sends `{"type":"told","text":...}` to the connections tagged T.
/// HTTP: `GET .../echo` answers `{"me","caller"}`; `GET .../call/ID` calls room ID's `echo` and
/// answers `{"me","reply"}`; `GET .../ask/ID` calls room ID's `call/THIS` (a call back);
/// `GET .../hold/KEY` holds the room's turn until ``release(_:)`` (and records in ``gates`` that
/// it holds it).
final class ProbeRoom: Room {
    static let className = "probe"

    struct Command: Decodable {
        let type: String
        let tags: [String]?
        let note: String?
        let tag: String?
        let text: String?
    }

    struct Note: Codable {
        let note: String
    }

    /// What `hold` requests did, by key: `holding`, then `released` once the test lets go.
    static let gates = EventLog<String>()

    /// Lets the `hold/KEY` request answer.
    static func release(_ key: String) {
        gates.append("released", for: key)
    }

    init(options: NoOptions) {}

    func onMessage(_ message: ClientMessage, from connection: RoomConnection, context: isolated RoomContext)
        async throws
    {
        let command = try message.decodeJSON(Command.self)
        switch command.type {
        case "tag":
            try context.setTags(Set(command.tags ?? []), for: connection)
            context.send(.text(#"{"type":"done"}"#), to: connection)
        case "attach":
            try context.setAttachment(Note(note: command.note ?? ""), for: connection)
            context.send(.text(#"{"type":"done"}"#), to: connection)
        case "whoami":
            let me: [String: Any?] = [
                "type": "me", "tags": connection.tags.sorted(),
                "note": try connection.attachment(as: Note.self)?.note, "lastPingAt": connection.lastPingAt,
            ]
            let data = try JSONSerialization.data(withJSONObject: me.compactMapValues { $0 })
            context.send(.text(String(decoding: data, as: UTF8.self)), to: connection)
        case "tell":
            context.send(try .json(["type": "told", "text": command.text ?? ""]), toTagged: command.tag ?? "")
        default:
            throw RoomError.badRequest(.unknownType, "unknown type")
        }
    }

    func onRequest(_ request: RoomRequest, context: isolated RoomContext) async throws -> RoomResponse {
        switch (request.path.first, request.path.count) {
        case ("echo", 1):
            return try .json(["me": context.id, "caller": request.caller?.id ?? ""])
        case ("hold", 2):
            // Holds the room's turn until the test releases KEY: what arrives meanwhile queues in
            // its mailbox.
            let key = request.path[1]
            Self.gates.append("holding", for: key)
            let deadline = ContinuousClock.now + .seconds(30)
            while !Self.gates.entries(for: key).contains("released"), ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(5))
            }
            return try .json(["held": key])
        case ("call", 2), ("ask", 2):
            let target = try RoomAddress(kind: context.kind, id: request.path[1])
            let path = request.path[0] == "call" ? ["echo"] : ["call", context.id]
            let reply = try await context.call(RoomRequest(method: "GET", path: path), to: target)
            return try .json(["me": context.id, "reply": String(buffer: reply.body)])
        default:
            throw RoomError.notFound(.notFound, "no such probe route")
        }
    }
}
