import Foundation
import GRDB
import Logging
public import RoomRuntime

/// Offline push, when the node has a ``PushService``: a message stored in a room with members
/// owes each member who has no connection to the room a push, due the service's delay later
/// (`push_state`, one row per member, written in the message's turn). When it falls due, a
/// member who connected or read the message meanwhile gets nothing; the others get one push
/// covering everything they have not read and were not pushed yet (`push_deliveries`, with the
/// delivery's id and body fixed once). Deliveries are attempted outside the room's turns, and
/// retried with backoff until they land or are ``maxPushAge`` old; after a crash or a restart
/// they go out again with the same id when ``outboxSchedule`` fires.
extension ChatRoom {
    static let pushTimer = "chat.push"
    /// The most messages one push lists.
    static let maxPushMessages = 20
    /// How long an undelivered push is retried before it is dropped, in milliseconds (a day).
    static let maxPushAge: Int64 = 86_400_000
    /// The longest wait between two attempts, in milliseconds.
    static let maxPushBackoff: Int64 = 300_000

    static func addPushMigrations(to migrations: inout RoomMigrations) {
        migrations.add("v5-push") { db in
            try db.execute(
                sql: """
                    CREATE TABLE push_state (
                        user TEXT PRIMARY KEY,
                        pushed_seq INTEGER NOT NULL,
                        due_at INTEGER
                    ) STRICT;
                    CREATE TABLE push_deliveries (
                        id TEXT PRIMARY KEY,
                        user TEXT NOT NULL,
                        body BLOB NOT NULL,
                        attempts INTEGER NOT NULL,
                        next_at INTEGER NOT NULL,
                        created_at INTEGER NOT NULL
                    ) STRICT;
                    """)
        }
    }

    /// `message` was stored: every member but its sender with no connection here owes a push.
    func owePushes(for message: ChatMessage, members: [Member], context: isolated RoomContext) throws {
        guard let push = context.services[PushService.self] else { return }
        let connected = Set(context.connections.map(\.user))
        let due = message.ts + push.delay.milliseconds
        var owed = false
        for member in members where member.user != message.user && !connected.contains(member.user) {
            owed = true
            try context.storage.execute(
                """
                INSERT INTO push_state (user, pushed_seq, due_at) VALUES (?, 0, ?)
                ON CONFLICT (user) DO UPDATE SET due_at = coalesce(due_at, excluded.due_at)
                """,
                arguments: [member.user, due])
        }
        guard owed else { return }
        try keepOutboxSchedule(context: context)
        if !context.hasTimer(Self.pushTimer) {
            context.setTimer(Self.pushTimer, after: push.delay)
        }
    }

    /// Turns the pushes that fell due into deliveries, and attempts the deliveries that are due
    /// and not already being attempted; then sets the timer for the next.
    func sendPushes(context: isolated RoomContext) throws {
        guard let push = context.services[PushService.self] else {
            // Push was configured and no longer is: nothing is pushed.
            try context.storage.execute("DELETE FROM push_state")
            try context.storage.execute("DELETE FROM push_deliveries")
            return
        }
        let now = context.now()
        let connected = Set(context.connections.map(\.user))
        for row in try context.storage.fetchAll(
            "SELECT user, pushed_seq FROM push_state WHERE due_at <= ?", arguments: [now])
        {
            let user: String = row["user"]
            try context.storage.execute("UPDATE push_state SET due_at = NULL WHERE user = ?", arguments: [user])
            guard !connected.contains(user), try context.role(of: user) != nil else { continue }
            let from = max(try ReadCursors.readSeq(of: user, context: context), row["pushed_seq"] as Int64)
            guard let delivery = try notification(for: user, after: from, context: context) else { continue }
            try context.storage.execute(
                """
                INSERT INTO push_deliveries (id, user, body, attempts, next_at, created_at) VALUES (?, ?, ?, 0, ?, ?)
                """,
                arguments: [delivery.id, user, delivery.body, now, now])
            try context.storage.execute(
                "UPDATE push_state SET pushed_seq = ? WHERE user = ?", arguments: [delivery.seq, user])
        }
        pushesInFlight = pushesInFlight.filter { context.isRunning($0.value) }
        for row in try context.storage.fetchAll(
            "SELECT id, body, attempts FROM push_deliveries WHERE next_at <= ? ORDER BY next_at LIMIT 100",
            arguments: [now])
        {
            let id: String = row["id"]
            guard pushesInFlight[id] == nil else { continue }
            let delivery = PushService.Delivery(id: id, body: row["body"])
            let attempt: Int64 = row["attempts"] + 1
            // The attempt waits on the network: outside the room's turns.
            pushesInFlight[id] = context.startWork { context in
                let failure: String?
                do {
                    try await push.deliver(delivery)
                    failure = nil
                } catch {
                    failure = "\(error)"
                }
                context.enqueue { context in
                    try ChatRoom.attempted(id, attempt: attempt, failure: failure, context: context)
                }
            }
        }
        try armPushTimer(context: context)
    }

    /// Records the outcome of attempt number `attempt` of delivery `id`.
    private static func attempted(
        _ id: String, attempt: Int64, failure: String?, context: isolated RoomContext
    ) throws {
        guard let failure else {
            try context.storage.execute("DELETE FROM push_deliveries WHERE id = ?", arguments: [id])
            return
        }
        let now = context.now()
        let created: Int64 = try context.storage.fetchOne(
            "SELECT created_at FROM push_deliveries WHERE id = ?", arguments: [id])?[0] ?? now
        guard now - created < maxPushAge else {
            context.logger.error(
                "an offline push is dropped after a day of failed attempts",
                metadata: ["delivery": "\(id)", "attempts": "\(attempt)", "error": "\(failure)"])
            try context.storage.execute("DELETE FROM push_deliveries WHERE id = ?", arguments: [id])
            return
        }
        let backoff = min(1_000 << min(attempt - 1, 20), maxPushBackoff)
        context.logger.warning(
            "an offline push failed; it is retried",
            metadata: ["delivery": "\(id)", "attempt": "\(attempt)", "retryInMs": "\(backoff)", "error": "\(failure)"])
        try context.storage.execute(
            "UPDATE push_deliveries SET attempts = ?, next_at = ? WHERE id = ?", arguments: [attempt, now + backoff, id])
        // The timer finds the next due time once this attempt's work has ended.
        context.setTimer(pushTimer, after: .milliseconds(10))
    }

    /// The push owed to `user` for the messages of others after `seq`; nil when there are none.
    private func notification(for user: String, after seq: Int64, context: isolated RoomContext) throws
        -> (id: String, seq: Int64, body: Data)?
    {
        let rows = try context.storage.fetchAll(
            "SELECT * FROM messages WHERE seq > ? AND user != ? ORDER BY seq DESC LIMIT ?",
            arguments: [seq, user, Self.maxPushMessages])
        let messages = rows.map(log.message(from:)).reversed()
        guard let latest = messages.last else { return nil }
        let count = try ReadCursors.unread(for: user, after: seq, context: context)
        let body = PushNotification(
            user: user, kind: context.kind, room: context.id, seq: latest.seq, from: latest.user, text: latest.text,
            ts: latest.ts, count: count,
            messages: messages.map { .init(seq: $0.seq, from: $0.user, text: $0.text, ts: $0.ts) })
        return (UUID().uuidString.lowercased(), latest.seq, try JSONEncoder().encode(body))
    }

    /// Sets the push timer for the next push or attempt due (a second from now for one that is
    /// due but still being attempted).
    private func armPushTimer(context: isolated RoomContext) throws {
        let now = context.now()
        var next: Int64? = try context.storage.fetchOne("SELECT min(due_at) FROM push_state")?[0]
        for row in try context.storage.fetchAll("SELECT id, next_at FROM push_deliveries") {
            let at: Int64 = pushesInFlight[row["id"]] == nil ? row["next_at"] : now + 1_000
            next = min(next ?? at, at)
        }
        if let next {
            context.setTimer(Self.pushTimer, after: .milliseconds(max(0, next - now)))
        } else {
            context.cancelTimer(Self.pushTimer)
        }
    }

    /// Whether pushes are owed or undelivered.
    func pushesOwed(context: isolated RoomContext) throws -> Bool {
        try context.storage.fetchOne(
            "SELECT 1 FROM push_state WHERE due_at IS NOT NULL UNION ALL SELECT 1 FROM push_deliveries LIMIT 1") != nil
    }
}
