import Foundation
import RoomTesting
import GRDB
@_spi(Node) import RoomRuntime

/// A room class for snapshot tests, on the pattern of the example `CounterRoom`.
///
/// Its state (a running total) lives in memory. Each change is a row of `changes`, committed with
/// its turn; only `onSnapshot` writes the total (with the last change it includes) to the
/// key-value store, and drops the changes it covers. `onStart` loads the snapshot and replays
/// the changes after it.
///
/// Requests: `POST add/N` adds N; `POST skip-snapshots` makes the room's later snapshots write
/// nothing (as if the process died before them; stored, so it holds across hibernation);
/// `POST fail-snapshots` makes this instance's snapshots throw;
/// `GET state` answers a ``State``.
/// Activations, snapshots and hibernations are recorded in ``log``.
final class SnapshotRoom: Room {
    static let className = "snapshots"

    static var snapshotInterval: Duration? { .milliseconds(100) }

    static var migrations: RoomMigrations {
        var migrations = RoomMigrations()
        migrations.add("v1") { db in
            try db.execute(sql: "CREATE TABLE changes (seq INTEGER PRIMARY KEY, delta INTEGER NOT NULL) STRICT")
        }
        return migrations
    }

    /// What the room did, by room id.
    enum Event: Sendable, Equatable {
        case start(Activation)
        /// A call of `onSnapshot`: the room's sequence then, and whether it wrote a snapshot.
        case snapshot(seq: Int64, wrote: Bool)
        case hibernate
    }

    static let log = EventLog<Event>()

    struct Snapshot: Codable {
        let value: Int64
        let seq: Int64
    }

    struct State: Codable {
        /// The total in memory.
        let value: Int64
        /// The room's last sequence number.
        let seq: Int64
        /// The last change the latest snapshot this instance wrote or loaded includes.
        let snapshotSeq: Int64
        /// The snapshot `onStart` loaded.
        let loadedValue: Int64
        let loadedSeq: Int64
        /// The changes `onStart` replayed on top of it.
        let replayed: Int
        /// Changes still in the `changes` table.
        let pendingChanges: Int
    }

    private var value: Int64 = 0
    private var snapshotSeq: Int64 = 0
    private var loaded = Snapshot(value: 0, seq: 0)
    private var replayed = 0
    private var skipSnapshots = false
    private var failSnapshots = false

    init(options: NoOptions) {}

    func onStart(_ activation: Activation, context: isolated RoomContext) async throws {
        Self.log.append(.start(activation), for: context.id)
        skipSnapshots = try context.storage.kv.get("skip-snapshots", as: Bool.self) ?? false
        loaded = try context.storage.kv.get("snapshot", as: Snapshot.self) ?? Snapshot(value: 0, seq: 0)
        snapshotSeq = loaded.seq
        let rows = try context.storage.fetchAll(
            "SELECT delta FROM changes WHERE seq > ? ORDER BY seq", arguments: [loaded.seq])
        replayed = rows.count
        value = rows.reduce(loaded.value) { $0 + ($1["delta"] as Int64) }
    }

    func onRequest(_ request: RoomRequest, context: isolated RoomContext) async throws -> RoomResponse {
        switch (request.method, request.path.first) {
        case ("POST", "add"):
            guard request.path.count == 2, let delta = Int64(request.path[1]) else {
                throw RoomError.badRequest(.invalidField, "add/N")
            }
            let seq = try context.nextSequence()
            try context.storage.execute("INSERT INTO changes (seq, delta) VALUES (?, ?)", arguments: [seq, delta])
            value += delta
            return try .json(state(context: context))
        case ("POST", "skip-snapshots"):
            try context.storage.kv.set("skip-snapshots", true)
            skipSnapshots = true
            return RoomResponse(status: 204)
        case ("POST", "fail-snapshots"):
            failSnapshots = true
            return RoomResponse(status: 204)
        case ("GET", "state"):
            return try .json(state(context: context))
        default:
            throw RoomError.notFound(.notFound, "no such route")
        }
    }

    func onSnapshot(context: isolated RoomContext) async throws {
        let seq = context.lastSequence
        let write = !skipSnapshots && !failSnapshots && seq != snapshotSeq
        Self.log.append(.snapshot(seq: seq, wrote: write), for: context.id)
        if failSnapshots { throw RoomError.internal("snapshot failed on purpose") }
        guard write else { return }
        try context.storage.kv.set("snapshot", Snapshot(value: value, seq: seq))
        try context.storage.execute("DELETE FROM changes WHERE seq <= ?", arguments: [seq])
        snapshotSeq = seq
    }

    func onHibernate(context: isolated RoomContext) async throws {
        Self.log.append(.hibernate, for: context.id)
    }

    private func state(context: isolated RoomContext) throws -> State {
        let pending = try context.storage.fetchOne("SELECT count(*) AS n FROM changes")?["n"] as Int? ?? 0
        return State(
            value: value, seq: context.lastSequence, snapshotSeq: snapshotSeq, loadedValue: loaded.value,
            loadedSeq: loaded.seq, replayed: replayed, pendingChanges: pending)
    }
}
