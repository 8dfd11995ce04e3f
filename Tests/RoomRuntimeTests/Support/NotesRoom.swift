import Foundation
import GRDB
import NIOCore
@_spi(Node) import RoomRuntime

/// A small room class for runtime tests.
///
/// Text frames: `note:TEXT` stores TEXT under the next sequence number and broadcasts
/// `{"type":"note","seq":N,"text":TEXT}`; `fail-after-write:TEXT` stores, then throws;
/// `count` answers `{"type":"count","notes":N,"starts":[...]}` with the activations seen so far.
/// HTTP: `GET` answers the notes' texts; `POST` stores its body as a note first (a stored write,
/// which creates the room).
final class NotesRoom: Room {
    static let className = "notes"

    struct Options: Codable, Sendable {
        var greeting: String?
    }

    static var migrations: RoomMigrations {
        var migrations = RoomMigrations()
        migrations.add("v1") { db in
            try db.execute(sql: "CREATE TABLE notes (seq INTEGER PRIMARY KEY, text TEXT NOT NULL)")
        }
        return migrations
    }

    private var starts: [String] = []

    init(options: Options) {}

    func onStart(_ activation: Activation, context: isolated RoomContext) async throws {
        starts = try context.storage.kv.get("starts", as: [String].self) ?? []
        starts.append(activation == .created ? "created" : "rehydrated")
        try context.storage.kv.set("starts", starts)
    }

    func onMessage(_ message: ClientMessage, from connection: RoomConnection, context: isolated RoomContext)
        async throws
    {
        guard case .text(let text) = message else {
            throw RoomError.badRequest(.binaryUnsupported, "text only")
        }
        if text.hasPrefix("note:") || text.hasPrefix("fail-after-write:") {
            let body = String(text.drop { $0 != ":" }.dropFirst())
            let seq = try context.nextSequence()
            try context.storage.execute("INSERT INTO notes (seq, text) VALUES (?, ?)", arguments: [seq, body])
            context.broadcast(try .json(["type": "note", "seq": "\(seq)", "text": body]))
            if text.hasPrefix("fail-after-write:") {
                throw RoomError.badRequest("refused", "refused after writing", frameID: "f1")
            }
        } else if text == "count" {
            let notes = try context.storage.fetchOne("SELECT count(*) AS n FROM notes")?["n"] as Int? ?? 0
            context.send(
                try .json(CountFrame(notes: notes, starts: starts, lastSequence: context.lastSequence)), to: connection)
        } else {
            throw RoomError.badRequest(.unknownType, "unknown command")
        }
    }

    func onRequest(_ request: RoomRequest, context: isolated RoomContext) async throws -> RoomResponse {
        if request.method == "POST" {
            try context.storage.execute(
                "INSERT INTO notes (seq, text) VALUES (?, ?)",
                arguments: [try context.nextSequence(), String(buffer: request.body)])
        }
        let notes = try context.storage.fetchAll("SELECT text FROM notes ORDER BY seq").map { $0["text"] as String }
        return try .json(notes)
    }
}

struct CountFrame: Codable {
    var type = "count"
    let notes: Int
    let starts: [String]
    let lastSequence: Int64
}
