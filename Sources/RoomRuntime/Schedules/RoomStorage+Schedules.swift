import Foundation
import GRDB

/// A stored schedule as the runtime reads it to fire it.
struct ScheduleRow: Sendable {
    let name: String
    let generation: Int64
    let dueAt: Int64
    let intervalMilliseconds: Int64?
    let payload: Data?
    let failures: Int
    let retry: RetryPolicy

    init(row: Row) {
        name = row["name"]
        generation = row["generation"]
        dueAt = row["due_at"]
        intervalMilliseconds = row["interval_ms"]
        payload = row["payload"]
        failures = row["failures"]
        retry = RetryPolicy(
            firstRetryAfter: .milliseconds(row["first_retry_ms"] as Int64), maxRetries: row["max_retries"])
    }

    /// The first due time after `now` on this schedule's interval grid (skipping missed runs).
    func nextRun(after now: Int64) -> Int64? {
        guard let interval = intervalMilliseconds, interval > 0 else { return nil }
        let missed = max(0, now - dueAt) / interval + 1
        return dueAt + missed * interval
    }
}

extension RoomStorage {
    /// Creates or replaces the schedule `name` (a replaced schedule starts afresh).
    func setSchedule(
        name: String, dueAt: Int64, interval: Int64?, payload: Data?, retry: RetryPolicy, now: Int64
    ) throws {
        try write { db in
            try db.cachedStatement(
                sql: """
                    INSERT OR REPLACE INTO _rooms_schedules
                        (name, generation, due_at, interval_ms, payload, failures, max_retries, first_retry_ms, created_at)
                    VALUES (?, ?, ?, ?, ?, 0, ?, ?, ?)
                    """
            ).execute(arguments: [
                name, Int64.random(in: 1...Int64.max), dueAt, interval, payload, retry.maxRetries,
                max(1, retry.firstRetryAfter.milliseconds), now,
            ])
        }
    }

    /// Removes the schedule `name`; false when there was none.
    func cancelSchedule(name: String) throws -> Bool {
        try write { db in
            try db.cachedStatement(sql: "DELETE FROM _rooms_schedules WHERE name = ?").execute(arguments: [name])
            return db.changesCount > 0
        }
    }

    /// Every schedule, soonest first.
    func schedules() throws -> [Schedule] {
        try readOwnQuery { db in
            try Row.fetchAll(db.cachedStatement(sql: "SELECT * FROM _rooms_schedules ORDER BY due_at, name")).map {
                row in
                let stored = ScheduleRow(row: row)
                return Schedule(
                    name: stored.name, dueAt: stored.dueAt,
                    interval: stored.intervalMilliseconds.map { .milliseconds($0) }, payload: stored.payload,
                    failures: stored.failures, retry: stored.retry)
            }
        }
    }

    /// The schedules due at `now`, soonest first.
    func dueSchedules(at now: Int64, limit: Int) throws -> [ScheduleRow] {
        try readOwnQuery { db in
            try Row.fetchAll(
                db.cachedStatement(sql: "SELECT * FROM _rooms_schedules WHERE due_at <= ? ORDER BY due_at LIMIT ?"),
                arguments: [now, limit]
            ).map(ScheduleRow.init(row:))
        }
    }

    /// The schedule `name` as it is now (seeing this turn's writes), if it exists.
    func scheduleRow(named name: String) throws -> ScheduleRow? {
        try readOwnQuery { db in
            try Row.fetchOne(
                db.cachedStatement(sql: "SELECT * FROM _rooms_schedules WHERE name = ?"), arguments: [name]
            ).map(ScheduleRow.init(row:))
        }
    }

    /// The earliest due time of any schedule, seeing this turn's writes.
    func nextScheduleDue() throws -> Int64? {
        try readOwnQuery { db in
            try Int64.fetchOne(db.cachedStatement(sql: "SELECT min(due_at) FROM _rooms_schedules"))
        }
    }

    /// Marks a firing done: a one-shot is removed, a repeating one moves to its next run. A
    /// schedule the handler replaced or cancelled meanwhile is left as the handler left it.
    func completeSchedule(_ fired: ScheduleRow, now: Int64) throws {
        try write { db in
            if let next = fired.nextRun(after: now) {
                try db.cachedStatement(
                    sql: "UPDATE _rooms_schedules SET due_at = ?, failures = 0 WHERE name = ? AND generation = ?"
                ).execute(arguments: [next, fired.name, fired.generation])
            } else {
                try db.cachedStatement(sql: "DELETE FROM _rooms_schedules WHERE name = ? AND generation = ?")
                    .execute(arguments: [fired.name, fired.generation])
            }
        }
    }

    /// Records a failed attempt: retries later with backoff, or gives up once the retries are
    /// spent (a one-shot is removed; a repeating schedule waits for its next run). Returns true
    /// when it gave up.
    @discardableResult
    func failSchedule(_ fired: ScheduleRow, now: Int64) throws -> Bool {
        let failures = fired.failures + 1
        guard failures > fired.retry.maxRetries else {
            try write { db in
                try db.cachedStatement(
                    sql: "UPDATE _rooms_schedules SET due_at = ?, failures = ? WHERE name = ? AND generation = ?"
                ).execute(arguments: [
                    now + fired.retry.delay(beforeRetry: failures), failures, fired.name, fired.generation,
                ])
            }
            return false
        }
        try completeSchedule(fired, now: now)
        return true
    }
}
