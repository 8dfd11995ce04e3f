import Foundation
package import GRDB
import Logging
public import RoomRuntime

/// The `chat` room class: durable, ordered group chat.
///
/// Every message gets the room's next sequence number, is committed to the room's SQLite file, and
/// only then is acknowledged to its sender and broadcast to every connection, sender included.
/// Joins and leaves are broadcast as `presence` frames. History is served over HTTP
/// (`GET /rooms/{kind}/{id}/messages`), and messages can be posted over HTTP too.
///
/// A message id is the sender's: sending the same id twice (a retry after a reconnect, say) stores
/// the message once and acknowledges both with the same `seq`, the second marked `duplicate`.
///
/// A `send` with `deliverAt` (ms since 1970) is a scheduled message: acknowledged at once with
/// `"scheduled": true`, then stored and broadcast at its time by a durable room schedule.
///
/// The frames and codes are documented in `docs/PROTOCOL.md`.
public final class ChatRoom: Room {
    public static let className = "chat"

    /// The longest client-chosen message id, in UTF-8 bytes.
    public static let maxIDBytes = 128

    public static var migrations: RoomMigrations {
        var migrations = RoomMigrations()
        migrations.add("v1") { db in
            try db.execute(
                sql: """
                    CREATE TABLE messages (
                        seq INTEGER PRIMARY KEY,
                        id TEXT NOT NULL,
                        user TEXT NOT NULL,
                        text TEXT NOT NULL,
                        ts INTEGER NOT NULL
                    ) STRICT;
                    CREATE UNIQUE INDEX messages_by_sender_id ON messages (user, id);
                    """)
        }
        migrations.add("v2-scheduled") { db in
            try db.execute(
                sql: """
                    CREATE TABLE scheduled_messages (
                        number INTEGER PRIMARY KEY,
                        id TEXT NOT NULL,
                        user TEXT NOT NULL,
                        text TEXT NOT NULL,
                        deliver_at INTEGER NOT NULL
                    ) STRICT;
                    CREATE UNIQUE INDEX scheduled_by_sender_id ON scheduled_messages (user, id);
                    """)
        }
        return migrations
    }

    package let options: ChatOptions

    public init(options: ChatOptions) {
        self.options = options
    }

    public func onConnect(_ connection: RoomConnection, context: isolated RoomContext) async throws {
        context.broadcast(
            try .json(PresenceFrame(event: .join, user: connection.user, connections: context.connections.count)))
    }

    public func onClose(_ connection: RoomConnection, context: isolated RoomContext) async throws {
        context.broadcast(
            try .json(PresenceFrame(event: .leave, user: connection.user, connections: context.connections.count)))
    }

    public func onMessage(_ message: ClientMessage, from connection: RoomConnection, context: isolated RoomContext)
        async throws
    {
        let frame = try message.decodeJSON(ClientFrame.self)
        context.currentFrameID = frame.id
        switch frame.type {
        case "send":
            let text = try validText(frame.text)
            let id = try validID(frame.id)
            if let deliverAt = frame.deliverAt {
                if let delivered = try self.message(user: connection.user, id: id, context: context) {
                    context.send(AckFrame(id: delivered.id, seq: delivered.seq, duplicate: true).frame, to: connection)
                    return
                }
                let (scheduled, duplicate) = try schedule(
                    user: connection.user, id: id, text: text, deliverAt: deliverAt, context: context)
                context.send(AckFrame(scheduled: scheduled, duplicate: duplicate).frame, to: connection)
                return
            }
            let (stored, duplicate) = try store(user: connection.user, id: id, text: text, context: context)
            context.send(AckFrame(id: stored.id, seq: stored.seq, duplicate: duplicate).frame, to: connection)
            if !duplicate {
                context.broadcast(MessageFrame(stored).frame)
            }
        default:
            throw RoomError.badRequest(.unknownType, "unknown frame type '\(frame.type)'; expected 'send'")
        }
    }

    public func onRequest(_ request: RoomRequest, context: isolated RoomContext) async throws -> RoomResponse {
        if request.path == ["scheduled"] {
            guard request.method == "GET" else {
                throw RoomError(.methodNotAllowed, .methodNotAllowed, "/scheduled takes GET")
            }
            return try .json(["scheduled": scheduledMessages(context: context)])
        }
        guard request.path == ["messages"] else {
            throw RoomError.notFound(.notFound, "no route /\(request.path.joined(separator: "/")) in a chat room")
        }
        switch request.method {
        case "GET":
            return try .json(["messages": history(request, context: context)])
        case "POST":
            let posted = try request.decodeJSON(PostedMessage.self)
            let user = try UserName.validate(posted.user)
            let text = try validText(posted.text)
            let id = try validID(posted.id)
            if let deliverAt = posted.deliverAt {
                if let delivered = try self.message(user: user, id: id, context: context) {
                    return try .json(PostResult(seq: delivered.seq, id: delivered.id, duplicate: true))
                }
                let (scheduled, duplicate) = try schedule(
                    user: user, id: id, text: text, deliverAt: deliverAt, context: context)
                return try .json(PostResult(scheduled: scheduled, duplicate: duplicate), status: duplicate ? 200 : 202)
            }
            let (stored, duplicate) = try store(user: user, id: id, text: text, context: context)
            if !duplicate {
                context.broadcast(MessageFrame(stored).frame)
            }
            return try .json(PostResult(seq: stored.seq, id: stored.id, duplicate: duplicate), status: duplicate ? 200 : 201)
        default:
            throw RoomError(.methodNotAllowed, .methodNotAllowed, "/messages takes GET or POST")
        }
    }

    public func onSchedule(_ fire: ScheduleFire, context: isolated RoomContext) async throws {
        guard fire.name.hasPrefix(Self.deliveryPrefix) else {
            context.logger.warning("unknown schedule", metadata: ["schedule": "\(fire.name)"])
            return
        }
        try deliver(fire, context: context)
    }

    // MARK: - Storing and reading

    /// Stores a message, or finds the one `user` already sent with `id`.
    package func store(user: String, id: String?, text: String, context: isolated RoomContext) throws
        -> (ChatMessage, duplicate: Bool)
    {
        if let existing = try self.message(user: user, id: id, context: context) {
            return (existing, true)
        }
        let seq = try context.nextSequence()
        let message = ChatMessage(
            seq: seq, id: id ?? UUID().uuidString.lowercased(), user: user, text: text, ts: context.now())
        try context.storage.execute(
            "INSERT INTO messages (seq, id, user, text, ts) VALUES (?, ?, ?, ?, ?)",
            arguments: [message.seq, message.id, message.user, message.text, message.ts])
        return (message, false)
    }

    /// The message `user` sent with `id`, if it is stored.
    package func message(user: String, id: String?, context: isolated RoomContext) throws -> ChatMessage? {
        guard let id else { return nil }
        return try context.storage.fetchOne(
            "SELECT * FROM messages WHERE user = ? AND id = ?", arguments: [user, id]
        ).map(Self.message(from:))
    }

    /// The page of history `request` asks for, in ascending `seq`.
    private func history(_ request: RoomRequest, context: isolated RoomContext) throws -> [ChatMessage] {
        let known: Set = ["after", "before", "limit"]
        if let unknown = request.query.keys.sorted().first(where: { !known.contains($0) }) {
            throw RoomError.badRequest(.invalidQuery, "unknown parameter '\(unknown)'; expected after, before, limit")
        }
        let after = try request.integer("after", in: 0...Int64.max) ?? 0
        let before = try request.integer("before", in: 0...Int64.max) ?? Int64.max
        let limit = try request.integer("limit", in: 1...Int64(options.maxHistoryLimit)) ?? 50
        // With only `before`, the page is the newest messages before it (paging backwards);
        // otherwise it is the oldest after `after`.
        let newestFirst = request.query["before"] != nil && request.query["after"] == nil
        let rows = try context.storage.fetchAll(
            newestFirst
                ? "SELECT * FROM messages WHERE seq > ? AND seq < ? ORDER BY seq DESC LIMIT ?"
                : "SELECT * FROM messages WHERE seq > ? AND seq < ? ORDER BY seq ASC LIMIT ?",
            arguments: [after, before, limit])
        let messages = try rows.map(Self.message(from:))
        return newestFirst ? messages.reversed() : messages
    }

    /// The message in `row` of `messages` (the columns of AI rooms are read when present).
    package static func message(from row: Row) throws -> ChatMessage {
        ChatMessage(
            seq: row["seq"], id: row["id"], user: row["user"], text: row["text"], ts: row["ts"], stream: row["stream"],
            replyTo: row["reply_to"], status: row["status"])
    }

    // MARK: - Validation

    package func validText(_ text: String?) throws(RoomError) -> String {
        guard let text, !text.isEmpty else {
            throw .badRequest(.missingField, "'text' is required and must not be empty")
        }
        guard text.utf8.count <= options.maxTextBytes else {
            throw .badRequest(.textTooLong, "'text' is longer than \(options.maxTextBytes) bytes")
        }
        return text
    }

    package func validID(_ id: String?) throws(RoomError) -> String? {
        guard let id else { return nil }
        guard !id.isEmpty, id.utf8.count <= Self.maxIDBytes else {
            throw .badRequest(.invalidField, "'id' must be 1 to \(Self.maxIDBytes) bytes")
        }
        return id
    }
}

extension RoomError.Code {
    /// A chat message's text is over the kind's `maxTextBytes`.
    public static let textTooLong: Self = "text_too_long"
}
