import Foundation
import Logging

extension RoomContext {
    /// The largest schedule payload, in bytes of JSON.
    public static let maxSchedulePayloadBytes = 65_536
    /// The longest schedule name, in UTF-8 bytes.
    public static let maxScheduleNameBytes = 256
    /// The prefix of the runtime's own schedule names.
    static let reservedSchedulePrefix = "_rooms."
    /// The runtime's snapshot schedule.
    static let snapshotScheduleName = "_rooms.snapshot"

    /// Creates the schedule `name`, or replaces the one of that name (names are unique in a room).
    ///
    /// The schedule is stored with the turn and survives hibernation and restarts: a hibernated
    /// room is woken to run it, and one that fell due while the node was down runs soon after the
    /// node starts. It fires ``Room/onSchedule(_:context:)`` at least once per due time.
    ///
    /// ```swift
    /// try context.schedule("reminder", .after(.seconds(3600)), payload: Reminder(user: "ann"))
    /// try context.schedule("tick", .every(.seconds(10)), retry: .never)
    /// ```
    ///
    /// - Throws: ``RoomError`` `invalid_schedule` for a bad name, interval or payload.
    public func schedule(
        _ name: String, _ time: ScheduleTime, payload: some Encodable, retry: RetryPolicy = .default
    ) throws {
        let data: Data
        do {
            data = try JSONEncoder().encode(payload)
        } catch {
            throw RoomError.badRequest(.invalidSchedule, "schedule '\(name)': the payload cannot be encoded: \(error)")
        }
        try storeSchedule(name, time, payload: data, retry: retry)
    }

    /// Creates or replaces the schedule `name`, without a payload.
    public func schedule(_ name: String, _ time: ScheduleTime, retry: RetryPolicy = .default) throws {
        try storeSchedule(name, time, payload: nil, retry: retry)
    }

    /// Cancels the schedule `name`; false when there was none.
    @discardableResult
    public func cancelSchedule(_ name: String) throws -> Bool {
        guard !name.hasPrefix(Self.reservedSchedulePrefix) else { return false }
        let cancelled = try storage.cancelSchedule(name: name)
        if cancelled { alarms.changed = true }
        return cancelled
    }

    /// The room's schedules (its own; not the runtime's), soonest first.
    public func schedules() throws -> [Schedule] {
        try storage.schedules().filter { !$0.name.hasPrefix(Self.reservedSchedulePrefix) }
    }

    private func storeSchedule(_ name: String, _ time: ScheduleTime, payload: Data?, retry: RetryPolicy) throws {
        guard storage.file != nil else {
            throw RoomError.badRequest(.invalidSchedule, "an ephemeral room has no durable schedules")
        }
        guard !name.isEmpty, name.utf8.count <= Self.maxScheduleNameBytes, !name.hasPrefix(Self.reservedSchedulePrefix)
        else {
            throw RoomError.badRequest(
                .invalidSchedule,
                "a schedule name is 1 to \(Self.maxScheduleNameBytes) bytes and does not start with '\(Self.reservedSchedulePrefix)'")
        }
        guard (payload?.count ?? 0) <= Self.maxSchedulePayloadBytes else {
            throw RoomError.tooLarge(
                .invalidSchedule, "schedule '\(name)': the payload is over \(Self.maxSchedulePayloadBytes) bytes")
        }
        guard retry.maxRetries >= 0, retry.firstRetryAfter > .zero else {
            throw RoomError.badRequest(.invalidSchedule, "schedule '\(name)': retries must be 0 or more, after a positive delay")
        }
        try setSchedule(name, time, payload: payload, retry: retry)
    }

    private func setSchedule(_ name: String, _ time: ScheduleTime, payload: Data?, retry: RetryPolicy) throws {
        let now = now()
        let dueAt: Int64
        var interval: Int64?
        switch time {
        case .at(let time):
            dueAt = time
        case .after(let delay):
            guard delay >= .zero else {
                throw RoomError.badRequest(.invalidSchedule, "schedule '\(name)': the delay is negative")
            }
            dueAt = now + delay.milliseconds
        case .every(let period):
            guard period.milliseconds >= 1 else {
                throw RoomError.badRequest(.invalidSchedule, "schedule '\(name)': the interval is under a millisecond")
            }
            interval = period.milliseconds
            dueAt = now + period.milliseconds
        }
        try storage.setSchedule(name: name, dueAt: dueAt, interval: interval, payload: payload, retry: retry, now: now)
        alarms.changed = true
    }

    /// Keeps the runtime's snapshot schedule in line with the class's interval (at activation).
    func ensureSnapshotSchedule() throws {
        let existing = try storage.schedules().first { $0.name == Self.snapshotScheduleName }
        guard let interval = slot.kind.snapshotInterval else {
            if existing != nil {
                _ = try storage.cancelSchedule(name: Self.snapshotScheduleName)
                alarms.changed = true
            }
            return
        }
        guard existing?.interval != interval else { return }
        try setSchedule(Self.snapshotScheduleName, .every(interval), payload: nil, retry: .never)
    }

    /// Removes the runtime's snapshot schedule (at hibernation).
    func dropSnapshotSchedule() throws {
        if try storage.cancelSchedule(name: Self.snapshotScheduleName) { alarms.changed = true }
    }

    /// Runs every schedule that is due, each in a turn of its own.
    func fireDueSchedules() async {
        // An alarm that arrives while a handler of the running batch waits in a call must not
        // start the batch's schedules again inside it (the waiting one is still due): they run
        // after it, when the batch's commit sets the clock again.
        guard !firingSchedules else { return }
        firingSchedules = true
        defer { firingSchedules = false }
        let now = now()
        // A lease: if this batch never commits (the room's storage fails), the clock comes back.
        alarms.lease(until: now + 5_000)
        let due: [ScheduleRow]
        do {
            due = try storage.dueSchedules(at: now, limit: 256)
        } catch {
            logger.error("cannot read schedules", metadata: ["error": "\(error)"])
            return
        }
        for row in due {
            guard !mustRestart else { return }
            // A handler that ran earlier in the batch may have cancelled or replaced this one.
            let current: ScheduleRow?
            do {
                current = try storage.scheduleRow(named: row.name)
            } catch {
                logger.error("cannot read schedules", metadata: ["error": "\(error)"])
                return
            }
            guard let current, current.generation == row.generation, current.dueAt <= now else { continue }
            await fire(current, now: now)
        }
    }

    private func fire(_ row: ScheduleRow, now: Int64) async {
        host.metrics.recordScheduleLateness(milliseconds: now - row.dueAt)
        let fire = ScheduleFire(
            name: row.name, payload: row.payload, attempt: row.failures + 1, dueAt: row.dueAt, firedAt: now,
            isRepeating: row.intervalMilliseconds != nil)
        let isSnapshot = row.name == Self.snapshotScheduleName
        // The next run, or the retry, is timed from the end of this run (not from when the batch
        // began): a run that took longer than the interval or the backoff is not followed at once
        // by another, and the runs it overlapped are skipped.
        await turn(isSnapshot ? .maintenance : .runtime) {
            if isSnapshot {
                try await room.onSnapshot(context: self)
            } else {
                try await room.onSchedule(fire, context: self)
            }
            try storage.completeSchedule(row, now: self.now())
        }
        // A call in the handler may have committed (and set the clock) before this run was
        // marked done: the batch's commit must set the clock again.
        alarms.changed = true
        guard let failure = gate.lastFailure, !mustRestart else { return }
        let failedAt = self.now()
        await turn(isSnapshot ? .maintenance : .runtime) {
            let gaveUp = try storage.failSchedule(row, now: failedAt)
            logger.warning(
                gaveUp ? "schedule failed; retries exhausted" : "schedule failed; will retry",
                metadata: ["schedule": "\(row.name)", "attempt": "\(fire.attempt)", "error": "\(failure)"])
        }
    }
}
