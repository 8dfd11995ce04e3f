import Foundation
public import GRDB
public import RoomRuntime

/// A room's chat history in its own SQLite file: the `messages` table, and everything a room
/// that keeps one needs (storing with idempotent sender ids, finding a message by its sender's id,
/// paging history over HTTP, validating text and ids).
///
/// A room class composes it: ``ChatRoom`` does, and so does any class that adds to chat (an AI
/// room adds fields of its own to its messages with ``ChatField``; the log stores and returns
/// them without knowing what they mean).
///
/// ```swift
/// let log = ChatLog(options: ChatOptions())
/// let (message, duplicate) = try log.store(user: connection.user, id: frame.id, text: text, context: context)
/// if !duplicate { context.broadcast(MessageFrame(message).frame) }
/// ```
public struct ChatLog: Sendable {
    /// The longest client-chosen message id, in UTF-8 bytes.
    public static let maxIDBytes = 128

    /// The limits it enforces (`maxTextBytes`, `maxHistoryLimit`).
    public let options: ChatOptions
    /// The fields its messages carry beyond the chat's own, in order.
    public let fields: [ChatField]

    /// The statement that stores a message: every column, the fields' set to NULL when absent
    /// (made once: every message runs it).
    private let insert: String

    public init(options: ChatOptions, fields: [ChatField] = []) {
        self.options = options
        self.fields = fields
        let columns = ["seq", "id", "user", "text", "ts"] + fields.map(\.column)
        insert = "INSERT INTO messages (\(columns.joined(separator: ", "))) VALUES (\(columns.map { _ in "?" }.joined(separator: ", ")))"
    }

    /// The `messages` table, as a class's first migration step (named `v1`).
    public static func addMigrations(to migrations: inout RoomMigrations) {
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
    }

    // MARK: - Storing and finding

    /// Stores a message under the room's next sequence number, or finds the one `user` already
    /// stored with `id` (then `duplicate` is true and nothing is written). Without `id`, one is
    /// chosen (a UUID).
    public func store(
        user: String, id: String?, text: String, fields values: [ChatMessage.Field] = [],
        context: isolated RoomContext
    ) throws -> (ChatMessage, duplicate: Bool) {
        if let existing = try message(user: user, id: id, context: context) {
            return (existing, true)
        }
        let message = ChatMessage(
            seq: try context.nextSequence(), id: id ?? UUID().uuidString.lowercased(), user: user, text: text,
            ts: context.now(), fields: fields.isEmpty ? [] : fields.compactMap { field in values.first { $0.name == field.name } })
        var arguments: StatementArguments = [message.seq, message.id, message.user, message.text, message.ts]
        for field in fields {
            switch message[field: field.name] {
            case .text(let text)?: arguments += [text]
            case .integer(let integer)?: arguments += [integer]
            case nil: arguments += [nil]
            }
        }
        try context.storage.execute(insert, arguments: arguments)
        return (message, false)
    }

    /// The message `user` stored with `id`, if any.
    public func message(user: String, id: String?, context: isolated RoomContext) throws -> ChatMessage? {
        guard let id else { return nil }
        return try context.storage.fetchOne(
            "SELECT * FROM messages WHERE user = ? AND id = ?", arguments: [user, id]
        ).map(message(from:))
    }

    /// The message stored as `seq`, if any.
    public func message(seq: Int64, context: isolated RoomContext) throws -> ChatMessage? {
        try context.storage.fetchOne("SELECT * FROM messages WHERE seq = ?", arguments: [seq]).map(message(from:))
    }

    /// The `message` frames of every message after `seq`, oldest first, for a resuming client;
    /// nil when there are more than the kind's `maxReplayMessages`.
    public func replay(after seq: Int64, context: isolated RoomContext) throws -> [OutboundFrame]? {
        let limit = options.maxReplayMessages
        let rows = try context.storage.fetchAll(
            "SELECT * FROM messages WHERE seq > ? ORDER BY seq LIMIT ?", arguments: [seq, limit + 1])
        guard rows.count <= limit else { return nil }
        return rows.map { MessageFrame(message(from: $0)).frame }
    }

    /// The newest messages up to `seq` (included), newest first, at most `limit`.
    public func recent(upTo seq: Int64, limit: Int, context: isolated RoomContext) throws -> [ChatMessage] {
        try context.storage.fetchAll(
            "SELECT * FROM messages WHERE seq <= ? ORDER BY seq DESC LIMIT ?", arguments: [seq, limit]
        ).map(message(from:))
    }

    /// The page of history `request` asks for (`after`, `before`, `limit`; see PROTOCOL.md), in
    /// ascending `seq`.
    ///
    /// - Throws: ``RoomError`` `invalid_query` for an unknown parameter or a bad value.
    public func history(_ request: RoomRequest, context: isolated RoomContext) throws -> [ChatMessage] {
        // `user` names the reader without authentication (membership is checked against it).
        let known: Set = ["after", "before", "limit", "user"]
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
        let messages = rows.map(message(from:))
        return newestFirst ? messages.reversed() : messages
    }

    /// The message in `row` of `messages`, with the log's fields.
    public func message(from row: Row) -> ChatMessage {
        ChatMessage(
            seq: row["seq"], id: row["id"], user: row["user"], text: row["text"], ts: row["ts"],
            fields: fields.compactMap { field in
                switch field.type {
                case .text:
                    return (row[field.column] as String?).map { ChatMessage.Field(name: field.name, value: .text($0)) }
                case .integer:
                    return (row[field.column] as Int64?).map { ChatMessage.Field(name: field.name, value: .integer($0)) }
                }
            })
    }

    // MARK: - Validation

    /// `text`, checked: present, not empty, at most `maxTextBytes`.
    ///
    /// - Throws: ``RoomError`` `missing_field` or `text_too_long`.
    public func validText(_ text: String?) throws(RoomError) -> String {
        guard let text, !text.isEmpty else {
            throw .badRequest(.missingField, "'text' is required and must not be empty")
        }
        guard text.utf8.count <= options.maxTextBytes else {
            throw .badRequest(.textTooLong, "'text' is longer than \(options.maxTextBytes) bytes")
        }
        return text
    }

    /// `id`, checked when present: 1 to ``maxIDBytes`` bytes.
    ///
    /// - Throws: ``RoomError`` `invalid_field`.
    public func validID(_ id: String?) throws(RoomError) -> String? {
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
