import Foundation
import GRDB
public import RoomRuntime

/// The `inbox` room class: one durable room per user (its id is the user's name), listing every
/// `members` and `direct` room the user belongs to, with the room's `lastSeq`, the user's
/// `readSeq` and `unread`, and the room's last message.
///
/// Clients reach it at the server's own routes, always their own: `GET /inbox` pages it, most
/// recent first, and `GET /inbox/ws` streams an `inbox` frame on every change, after a `welcome`
/// that carries the total `unread`. Rooms of kind `inbox` are not reachable at `/rooms/...`.
///
/// Chat rooms keep it up to date: each keeps a durable outbox of the updates its members' inboxes
/// are owed and delivers them by calls between rooms (``InboxUpdate`` to `POST update`), batched
/// per inbox and retried until they land. An update can only concern the room that calls.
public final class InboxRoom: Room {
    public static let className = "inbox"
    /// The kind a node serves inboxes as: `inbox/{user}`.
    public static let kind = "inbox"
    /// The most rooms one page of `GET /inbox` lists.
    public static let maxPageLimit: Int64 = 200

    public static var migrations: RoomMigrations {
        var migrations = RoomMigrations()
        migrations.add("v1") { db in
            try db.execute(
                sql: """
                    CREATE TABLE inbox (
                        kind TEXT NOT NULL,
                        id TEXT NOT NULL,
                        last_seq INTEGER NOT NULL,
                        read_seq INTEGER NOT NULL,
                        unread INTEGER NOT NULL,
                        last TEXT,
                        updated_at INTEGER NOT NULL,
                        PRIMARY KEY (kind, id)
                    ) STRICT;
                    CREATE INDEX inbox_by_recency ON inbox (updated_at DESC, kind, id);
                    """)
        }
        return migrations
    }

    public init(options: NoOptions) {}

    public func welcome(for connection: RoomConnection, context: isolated RoomContext) async throws
        -> [String: JSONValue]
    {
        let total: Int64 = try context.storage.fetchOne("SELECT coalesce(sum(unread), 0) FROM inbox")?[0] ?? 0
        return ["unread": .number(Double(total))]
    }

    public func onConnect(_ connection: RoomConnection, context: isolated RoomContext) async throws {
        guard connection.user == context.id else {
            throw RoomError.forbidden(.forbidden, "an inbox is its owner's only")
        }
    }

    public func onMessage(_ message: ClientMessage, from connection: RoomConnection, context: isolated RoomContext)
        async throws
    {
        throw RoomError.badRequest(.unknownType, "an inbox takes no frames: it only sends them")
    }

    public func onRequest(_ request: RoomRequest, context: isolated RoomContext) async throws -> RoomResponse {
        switch (request.method, request.path) {
        case ("POST", ["update"]):
            guard let room = request.caller else {
                throw RoomError.forbidden(.forbidden, "only rooms update inboxes")
            }
            try apply(try request.decodeJSON(InboxUpdate.self), from: room, context: context)
            return RoomResponse(status: 204)
        case ("GET", ["rooms"]):
            guard request.caller == nil, request.identity?.user == context.id else {
                throw RoomError.forbidden(.forbidden, "an inbox is its owner's only")
            }
            return try .json(try page(request, context: context))
        default:
            throw RoomError.notFound(.notFound, "no route \(request.method) /\(request.path.joined(separator: "/")) in an inbox")
        }
    }

    // MARK: - Updates

    private func apply(_ update: InboxUpdate, from room: RoomAddress, context: isolated RoomContext) throws {
        guard update.removed != true, let entry = update.room else {
            try context.storage.execute("DELETE FROM inbox WHERE kind = ? AND id = ?", arguments: [room.kind, room.id])
            context.broadcast(try .json(InboxFrame(room: .removed(.init(kind: room.kind, id: room.id)))))
            return
        }
        // The caller is the room: whatever the body says, this is its entry.
        let stored = InboxEntry(
            kind: room.kind, id: room.id, lastSeq: entry.lastSeq, readSeq: entry.readSeq, unread: entry.unread,
            last: entry.last, updatedAt: entry.updatedAt)
        let last = try stored.last.map { String(decoding: try JSONEncoder().encode($0), as: UTF8.self) }
        try context.storage.execute(
            """
            INSERT INTO inbox (kind, id, last_seq, read_seq, unread, last, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT (kind, id) DO UPDATE SET last_seq = excluded.last_seq, read_seq = excluded.read_seq,
                unread = excluded.unread, last = excluded.last, updated_at = excluded.updated_at
            """,
            arguments: [
                stored.kind, stored.id, stored.lastSeq, stored.readSeq, stored.unread, last, stored.updatedAt,
            ])
        context.broadcast(try .json(InboxFrame(room: .entry(stored))))
    }

    // MARK: - Listing

    private func page(_ request: RoomRequest, context: isolated RoomContext) throws -> InboxPage {
        let known: Set = ["limit", "cursor", "user"]
        if let unknown = request.query.keys.sorted().first(where: { !known.contains($0) }) {
            throw RoomError.badRequest(.invalidQuery, "unknown parameter '\(unknown)'; expected limit, cursor")
        }
        let limit = try request.integer("limit", in: 1...Self.maxPageLimit) ?? 50
        var rows: [Row]
        if let text = request.query["cursor"] {
            guard let cursor = Cursor(text) else {
                throw RoomError.badRequest(.invalidQuery, "'cursor' must be one a previous page gave")
            }
            rows = try context.storage.fetchAll(
                """
                SELECT * FROM inbox
                WHERE updated_at < ? OR (updated_at = ? AND (kind > ? OR (kind = ? AND id > ?)))
                ORDER BY updated_at DESC, kind, id LIMIT ?
                """,
                arguments: [cursor.updatedAt, cursor.updatedAt, cursor.kind, cursor.kind, cursor.id, limit + 1])
        } else {
            rows = try context.storage.fetchAll(
                "SELECT * FROM inbox ORDER BY updated_at DESC, kind, id LIMIT ?", arguments: [limit + 1])
        }
        let more = rows.count > limit
        if more { rows.removeLast() }
        let entries = try rows.map(Self.entry(from:))
        let next = more ? entries.last.map { Cursor(updatedAt: $0.updatedAt, kind: $0.kind, id: $0.id).text } : nil
        return InboxPage(rooms: entries, cursor: next)
    }

    private static func entry(from row: Row) throws -> InboxEntry {
        let last = try (row["last"] as String?).map {
            try JSONDecoder().decode(InboxEntry.LastMessage.self, from: Data($0.utf8))
        }
        return InboxEntry(
            kind: row["kind"], id: row["id"], lastSeq: row["last_seq"], readSeq: row["read_seq"], unread: row["unread"],
            last: last, updatedAt: row["updated_at"])
    }

    /// Where a page ends: base64url of `updatedAt`, `kind` and `id`, separated by newlines (which
    /// neither a kind nor a room id holds).
    struct Cursor {
        let updatedAt: Int64
        let kind: String
        let id: String

        init(updatedAt: Int64, kind: String, id: String) {
            self.updatedAt = updatedAt
            self.kind = kind
            self.id = id
        }

        init?(_ text: String) {
            var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
            base64 += String(repeating: "=", count: (4 - base64.count % 4) % 4)
            guard text.utf8.count <= 1024, let data = Data(base64Encoded: base64),
                let decoded = String(data: data, encoding: .utf8)
            else { return nil }
            let parts = decoded.split(separator: "\n", omittingEmptySubsequences: false)
            guard parts.count == 3, let updatedAt = Int64(parts[0]) else { return nil }
            self.init(updatedAt: updatedAt, kind: String(parts[1]), id: String(parts[2]))
        }

        var text: String {
            Data("\(updatedAt)\n\(kind)\n\(id)".utf8).base64EncodedString()
                .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
                .replacingOccurrences(of: "=", with: "")
        }
    }
}
