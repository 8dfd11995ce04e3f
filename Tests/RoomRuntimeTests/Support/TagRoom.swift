import Foundation
import RoomTesting
@_spi(Node) import RoomRuntime

/// A room class for connection tests: tags, attachments and heartbeats.
///
/// Text frames are JSON objects with a `type`:
///
/// - `tag` with `tags`: sets the sender's tags; answers `{"type":"tagged"}`.
/// - `attach` with `seat` and `note`: stores a ``Seat`` on the sender; `attach-bytes` with `bytes`
///   stores a JSON string of exactly that many bytes; `detach` removes it. Answers
///   `{"type":"attached"}`.
/// - `who` with `tag`: answers `{"type":"who","users","seats","tags"}` for the connections with
///   that tag, in the order they joined.
/// - `shout` with `tag` and `text`: sends `{"type":"shout","text"}` to the connections with the tag.
/// - `mark` with `text`: broadcasts `{"type":"mark","text"}` to everyone.
/// - `lastPing`: answers `{"type":"lastPing","at"}` with the sender's last ping time.
///
/// Activations are recorded in ``starts``.
final class TagRoom: Room {
    static let className = "tags"

    static let starts = EventLog<Activation>()

    /// What the tests attach to a connection.
    struct Seat: Codable, Sendable, Equatable {
        let seat: Int
        let note: String
    }

    struct Command: Decodable {
        let type: String
        let tags: [String]?
        let seat: Int?
        let note: String?
        let bytes: Int?
        let tag: String?
        let text: String?
    }

    struct Who: Encodable {
        var type = "who"
        let users: [String]
        let seats: [Seat?]
        let tags: [[String]]
    }

    struct Text: Encodable {
        let type: String
        let text: String
    }

    struct LastPing: Encodable {
        var type = "lastPing"
        let at: Int64?
    }

    init(options: NoOptions) {}

    func onStart(_ activation: Activation, context: isolated RoomContext) async throws {
        Self.starts.append(activation, for: context.id)
    }

    func onMessage(_ message: ClientMessage, from connection: RoomConnection, context: isolated RoomContext)
        async throws
    {
        let command = try message.decodeJSON(Command.self)
        switch command.type {
        case "tag":
            try context.setTags(Set(command.tags ?? []), for: connection)
            context.send(.text(#"{"type":"tagged"}"#), to: connection)
        case "attach":
            try context.setAttachment(Seat(seat: command.seat ?? 0, note: command.note ?? ""), for: connection)
            context.send(.text(#"{"type":"attached"}"#), to: connection)
        case "attach-bytes":
            // A JSON string: its quotes and `bytes - 2` letters.
            try context.setAttachment(String(repeating: "a", count: max(0, (command.bytes ?? 2) - 2)), for: connection)
            context.send(.text(#"{"type":"attached"}"#), to: connection)
        case "detach":
            try context.setAttachment(Seat?.none, for: connection)
            context.send(.text(#"{"type":"attached"}"#), to: connection)
        case "who":
            let tagged = context.connections(tagged: command.tag ?? "")
            context.send(
                try .json(
                    Who(
                        users: tagged.map(\.user), seats: tagged.map { try? $0.attachment(as: Seat.self) },
                        tags: tagged.map { $0.tags.sorted() })),
                to: connection)
        case "shout":
            context.send(try .json(Text(type: "shout", text: command.text ?? "")), toTagged: command.tag ?? "")
        case "mark":
            context.broadcast(try .json(Text(type: "mark", text: command.text ?? "")))
        case "lastPing":
            context.send(try .json(LastPing(at: connection.lastPingAt)), to: connection)
        default:
            throw RoomError.badRequest(.unknownType, "unknown command '\(command.type)'")
        }
    }
}
