import Foundation
import GRDB
import Logging
public import RoomRuntime

/// Scheduled messages: a `send` with `deliverAt` is stored in `scheduled_messages` with a room
/// schedule named `deliver.<number>`, acknowledged at once, and delivered (stored, broadcast) when
/// the schedule fires, after a restart too. Delivery is idempotent: the `(user, id)` of a message
/// is unique, so a schedule that fires twice stores the message once.
extension ChatRoom {
    static let deliveryPrefix = "deliver."

    /// Accepts a message for delivery at `deliverAt`, or finds the one `user` already sent with `id`.
    func schedule(
        user: String, id: String?, text: String, deliverAt: Int64, context: isolated RoomContext
    ) throws -> (ScheduledMessage, duplicate: Bool) {
        if let id, let existing = try context.storage.fetchOne(
            "SELECT * FROM scheduled_messages WHERE user = ? AND id = ?", arguments: [user, id])
        {
            return (Self.scheduledMessage(from: existing), true)
        }
        let now = context.now()
        let horizon = Int64(options.maxScheduleAheadSeconds) * 1000
        guard deliverAt > now, deliverAt - now <= horizon else {
            throw RoomError.badRequest(
                .invalidDeliverAt,
                "'deliverAt' must be in the future and at most \(options.maxScheduleAheadSeconds) s ahead "
                    + "(it is \(deliverAt - now) ms from now)")
        }
        let pending = try context.storage.fetchOne("SELECT count(*) AS n FROM scheduled_messages")?["n"] as Int? ?? 0
        guard pending < options.maxScheduledMessages else {
            throw RoomError(
                .conflict, .tooManyScheduled,
                "the room already holds \(options.maxScheduledMessages) scheduled messages")
        }
        let message = ScheduledMessage(
            id: id ?? UUID().uuidString.lowercased(), user: user, text: text, deliverAt: deliverAt)
        let number = try context.storage.write { db in
            try db.execute(
                sql: "INSERT INTO scheduled_messages (id, user, text, deliver_at) VALUES (?, ?, ?, ?)",
                arguments: [message.id, message.user, message.text, message.deliverAt])
            return db.lastInsertedRowID
        }
        try context.schedule("\(Self.deliveryPrefix)\(number)", .at(deliverAt))
        return (message, false)
    }

    /// Delivers the scheduled message behind `fire`: stores it (once) and broadcasts it.
    func deliver(_ fire: ScheduleFire, context: isolated RoomContext) throws {
        guard let number = Int64(fire.name.dropFirst(Self.deliveryPrefix.count)),
            let row = try context.storage.fetchOne(
                "SELECT * FROM scheduled_messages WHERE number = ?", arguments: [number])
        else {
            context.logger.warning("a delivery schedule has no message", metadata: ["schedule": "\(fire.name)"])
            return
        }
        let pending = Self.scheduledMessage(from: row)
        try context.storage.execute("DELETE FROM scheduled_messages WHERE number = ?", arguments: [number])
        let (stored, duplicate) = try store(user: pending.user, id: pending.id, text: pending.text, context: context)
        if !duplicate {
            context.broadcast(MessageFrame(stored).frame)
        }
    }

    /// The messages waiting for delivery, soonest first.
    func scheduledMessages(context: isolated RoomContext) throws -> [ScheduledMessage] {
        try context.storage.fetchAll("SELECT * FROM scheduled_messages ORDER BY deliver_at, number")
            .map(Self.scheduledMessage(from:))
    }

    private static func scheduledMessage(from row: Row) -> ScheduledMessage {
        ScheduledMessage(id: row["id"], user: row["user"], text: row["text"], deliverAt: row["deliver_at"])
    }
}

extension RoomError.Code {
    /// A scheduled message's `deliverAt` is not in the future or is beyond the kind's horizon.
    public static let invalidDeliverAt: Self = "invalid_deliver_at"
    /// A room already holds its kind's `maxScheduledMessages` undelivered messages.
    public static let tooManyScheduled: Self = "too_many_scheduled"
}
