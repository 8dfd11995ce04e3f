public import RoomRuntime

/// The durable side of what a chat room owes outside itself (inbox updates, offline pushes): the
/// timers that deliver them promptly live in memory, so a durable schedule exists while anything
/// is owed, and delivers it if the timers were lost (a crash, a restart, hibernation). It is
/// created when something becomes owed and dropped by its own firing once nothing is, not after
/// every delivery: creating a schedule writes the node directory durably.
extension ChatRoom {
    static let outboxSchedule = "chat.outbox"
    /// How often ``outboxSchedule`` fires while something is owed.
    static let outboxCheckInterval = Duration.seconds(5)

    /// Creates ``outboxSchedule`` if it does not exist.
    func keepOutboxSchedule(context: isolated RoomContext) throws {
        if outboxScheduled == nil {
            outboxScheduled = try context.schedules().contains { $0.name == Self.outboxSchedule }
        }
        guard outboxScheduled != true else { return }
        try context.schedule(Self.outboxSchedule, .every(Self.outboxCheckInterval), retry: .never)
        outboxScheduled = true
    }

    /// ``outboxSchedule`` fired: deliver what is owed, and drop the schedule once nothing is.
    func outboxScheduleFired(context: isolated RoomContext) async throws {
        try sendPushes(context: context)
        try await deliverInboxes(context: context)
        if try !inboxesOwed(context: context), try !pushesOwed(context: context) {
            try context.cancelSchedule(Self.outboxSchedule)
            outboxScheduled = false
        }
    }
}
