import Foundation
import GRDB
import Logging
public import RoomRuntime

/// The chat side of inboxes: a durable outbox (`inbox_outbox`, one row per member whose inbox is
/// owed an update, with a version bumped by every change) written in the turn that changes what
/// the inbox shows, and delivered after it by calls to each member's inbox room. The call carries
/// the room as the member sees it at delivery time, so that a burst of changes is one update per
/// inbox; a row leaves the outbox only when its inbox took the version it holds.
///
/// Delivery starts ``ChatOptions/inboxDelayMilliseconds`` after the first change (a timer), never
/// in the turn that changed the room; what fails to land, and what a crash left behind, goes out
/// when ``outboxSchedule`` fires (every ``outboxCheckInterval`` while anything is owed).
extension ChatRoom {
    static let inboxTimer = "chat.inbox"
    /// The most outbox rows one delivery round takes.
    static let inboxBatch = 200
    /// How long a call to an inbox may take.
    static let inboxCallTimeout = Duration.seconds(10)

    static func addInboxMigrations(to migrations: inout RoomMigrations) {
        migrations.add("v4-inbox-outbox") { db in
            try db.execute(
                sql: """
                    CREATE TABLE inbox_outbox (
                        user TEXT PRIMARY KEY,
                        version INTEGER NOT NULL
                    ) STRICT;
                    """)
        }
    }

    /// The outbox row that stands for every member (no user name is empty): a message changes
    /// every member's inbox, and one row per message is cheaper than one per member.
    static let everyone = ""

    /// Records that the inboxes of `users` are owed an update.
    func owe(inboxesOf users: some Sequence<String>, context: isolated RoomContext) throws {
        var any = false
        for user in users {
            any = true
            try owe(row: user, context: context)
        }
        guard any else { return }
        try startDelivery(context: context)
    }

    /// Records that every member's inbox is owed an update.
    func oweEveryInbox(context: isolated RoomContext) throws {
        try owe(row: Self.everyone, context: context)
        try startDelivery(context: context)
    }

    private func owe(row user: String, context: isolated RoomContext) throws {
        try context.storage.execute(
            """
            INSERT INTO inbox_outbox (user, version) VALUES (?, 1)
            ON CONFLICT (user) DO UPDATE SET version = version + 1
            """,
            arguments: [user])
    }

    private func startDelivery(context: isolated RoomContext) throws {
        try keepOutboxSchedule(context: context)
        if !context.hasTimer(Self.inboxTimer) {
            context.setTimer(Self.inboxTimer, after: .milliseconds(options.inboxDelayMilliseconds))
        }
    }

    /// Delivers what the outbox holds. Each call ends the turn's first half (its writes commit
    /// before the request leaves); the room handles its other events while the call is out.
    func deliverInboxes(context: isolated RoomContext) async throws {
        guard !deliveringInboxes else {
            inboxesOwedAgain = true
            return
        }
        deliveringInboxes = true
        defer { deliveringInboxes = false }
        repeat {
            inboxesOwedAgain = false
            let owed = try context.storage.fetchAll(
                "SELECT user, version FROM inbox_outbox ORDER BY user LIMIT ?", arguments: [Self.inboxBatch])
            var versions: [String: Int64] = [:]
            for row in owed { versions[row["user"]] = row["version"] }
            // Every member once, whether owed by name, as one of everyone, or both.
            var targets = owed.map { $0["user"] as String }.filter { $0 != Self.everyone }
            if versions[Self.everyone] != nil {
                let named = Set(targets)
                targets += try context.members().map(\.user).filter { !named.contains($0) }
            }
            var failed = false
            var delivered: [String] = []
            // The room's last message as it stands now, for every update of the round.
            let last = try log.recent(upTo: .max, limit: 1, context: context).first
            for user in targets {
                let update = try inboxUpdate(for: user, last: last, context: context)
                do {
                    _ = try await context.call(
                        try .json(method: "POST", path: ["update"], update),
                        to: try RoomAddress(kind: InboxRoom.kind, id: user), timeout: Self.inboxCallTimeout)
                } catch let error as RoomError where error.code == .unknownKind {
                    // The node serves no inboxes: nothing is owed to anyone.
                    try context.storage.execute("DELETE FROM inbox_outbox")
                    return
                } catch let error as RoomError where error.code == .storageFailed {
                    throw error
                } catch {
                    context.logger.warning(
                        "an inbox update did not land; it is retried",
                        metadata: ["user": "\(user)", "error": "\(error)"])
                    failed = true
                    continue
                }
                delivered.append(user)
            }
            // Written after the last call, not between calls: a call commits what the turn wrote
            // before it, and one commit per round is enough (a round cut short by a crash is
            // delivered again, and an inbox takes the same state twice unchanged). A row goes
            // only if it was not owed again meanwhile (its version moved).
            if !failed, versions[Self.everyone] != nil { delivered.append(Self.everyone) }
            for user in delivered {
                guard let version = versions[user] else { continue }
                try context.storage.execute(
                    "DELETE FROM inbox_outbox WHERE user = ? AND version = ?", arguments: [user, version])
            }
            // What failed waits for the schedule; a full batch means more is owed now.
            if !failed, owed.count == Self.inboxBatch { inboxesOwedAgain = true }
        } while inboxesOwedAgain
    }

    /// The room as `user` sees it now, its last message being `last`, or their removal.
    func inboxUpdate(for user: String, last: ChatMessage?, context: isolated RoomContext) throws -> InboxUpdate {
        guard let role = try context.member(user) else {
            return InboxUpdate(room: nil, removed: true)
        }
        let readSeq = try ReadCursors.readSeq(of: user, context: context)
        return InboxUpdate(
            room: InboxEntry(
                kind: context.kind, id: context.id, lastSeq: context.lastSequence, readSeq: readSeq,
                unread: try ReadCursors.unread(for: user, after: readSeq, context: context),
                last: last.map(InboxEntry.LastMessage.init), updatedAt: max(last?.ts ?? 0, role.addedAt)),
            removed: nil)
    }

    /// Whether the outbox holds anything.
    func inboxesOwed(context: isolated RoomContext) throws -> Bool {
        try context.storage.fetchOne("SELECT 1 FROM inbox_outbox LIMIT 1") != nil
    }
}
