import Foundation
import GRDB
public import RoomRuntime

/// The `counter` room class: the smallest complete room, to copy when writing your own.
///
/// It shows the three parts of the programming model:
///
/// - **State in memory, changes in storage.** The count lives in a property. Every change is a row
///   of the `changes` table, committed before anyone hears of it.
/// - **Snapshots.** Every ``snapshotInterval`` (and before hibernation and shutdown) the room
///   writes the count and the last change it includes to the key-value store, then drops the
///   changes the snapshot covers. ``onStart(_:context:)`` loads the snapshot and replays the changes
///   after it, so a crash loses nothing that was committed.
/// - **A schedule.** `{"type": "reset", "afterSeconds": N}` sets the durable schedule `reset`
///   (replacing an earlier one); when it fires the count goes back to 0, even if the room was
///   hibernated or the node restarted in between.
///
/// Frames: the client sends `{"type": "increment", "by": N}` (N defaults to 1) or
/// `{"type": "reset", "afterSeconds": N}`; every connection receives
/// `{"type": "count", "value", "seq", "user"?}` after each change and on connecting, and
/// `{"type": "reset-scheduled", "at"}` when a reset is set. `GET /rooms/{kind}/{id}/state` answers
/// `{"value", "seq", "snapshotSeq", "resetAt"}`.
public final class CounterRoom: Room {
    public static let className = "counter"

    /// Snapshot once a minute by default; a kind can set `snapshotIntervalSeconds`.
    public static var snapshotInterval: Duration? { .seconds(60) }

    public static var migrations: RoomMigrations {
        var migrations = RoomMigrations()
        migrations.add("v1") { db in
            try db.execute(sql: "CREATE TABLE changes (seq INTEGER PRIMARY KEY, delta INTEGER NOT NULL) STRICT")
        }
        return migrations
    }

    private var value: Int64 = 0
    private var snapshotSeq: Int64 = 0

    public init(options: NoOptions) {}

    public func onStart(_ activation: Activation, context: isolated RoomContext) async throws {
        let snapshot = try context.storage.kv.get("snapshot", as: CounterSnapshot.self)
        value = snapshot?.value ?? 0
        snapshotSeq = snapshot?.seq ?? 0
        let replayed = try context.storage.fetchOne(
            "SELECT coalesce(sum(delta), 0) AS total FROM changes WHERE seq > ?", arguments: [snapshotSeq])
        value += replayed?["total"] ?? 0
    }

    public func onConnect(_ connection: RoomConnection, context: isolated RoomContext) async throws {
        context.send(try .json(CountFrame(value: value, seq: context.lastSequence, user: nil)), to: connection)
    }

    public func onMessage(_ message: ClientMessage, from connection: RoomConnection, context: isolated RoomContext)
        async throws
    {
        let frame = try message.decodeJSON(CounterCommand.self)
        switch frame.type {
        case "increment":
            let by = frame.by ?? 1
            guard (-1_000_000...1_000_000).contains(by) else {
                throw RoomError.badRequest(.invalidField, "'by' must be from -1000000 to 1000000")
            }
            try change(by: by, user: connection.user, context: context)
        case "reset":
            guard let seconds = frame.afterSeconds, seconds >= 0, seconds <= 31_536_000 else {
                throw RoomError.badRequest(.invalidField, "'afterSeconds' must be from 0 to 31536000")
            }
            try context.schedule("reset", .after(.milliseconds(Int64(seconds * 1000))))
            let at = try context.schedules().first { $0.name == "reset" }?.dueAt
            context.broadcast(try .json(ResetScheduledFrame(at: at ?? context.now())))
        default:
            throw RoomError.badRequest(.unknownType, "unknown frame type '\(frame.type)'; expected increment or reset")
        }
    }

    public func onSchedule(_ fire: ScheduleFire, context: isolated RoomContext) async throws {
        guard fire.name == "reset", value != 0 else { return }
        try change(by: -value, user: nil, context: context)
    }

    public func onSnapshot(context: isolated RoomContext) async throws {
        let seq = context.lastSequence
        guard seq != snapshotSeq else { return }
        try context.storage.kv.set("snapshot", CounterSnapshot(value: value, seq: seq))
        try context.storage.execute("DELETE FROM changes WHERE seq <= ?", arguments: [seq])
        snapshotSeq = seq
    }

    public func onRequest(_ request: RoomRequest, context: isolated RoomContext) async throws -> RoomResponse {
        guard request.path == ["state"] else {
            throw RoomError.notFound(.notFound, "a counter room answers GET /rooms/{kind}/{id}/state only")
        }
        guard request.method == "GET" else {
            throw RoomError(.methodNotAllowed, .methodNotAllowed, "a counter room answers GET only")
        }
        let resetAt = try context.schedules().first { $0.name == "reset" }?.dueAt
        return try .json(
            CounterState(value: value, seq: context.lastSequence, snapshotSeq: snapshotSeq, resetAt: resetAt))
    }

    /// Commits a change, then applies it in memory and tells everyone.
    private func change(by delta: Int64, user: String?, context: isolated RoomContext) throws {
        let (sum, overflow) = value.addingReportingOverflow(delta)
        guard !overflow else { throw RoomError.badRequest(.invalidField, "the count would overflow") }
        let seq = try context.nextSequence()
        try context.storage.execute("INSERT INTO changes (seq, delta) VALUES (?, ?)", arguments: [seq, delta])
        value = sum
        context.broadcast(try .json(CountFrame(value: value, seq: seq, user: user)))
    }
}
