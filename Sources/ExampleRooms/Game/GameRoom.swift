import Foundation
import GRDB
public import RoomRuntime

/// The `game` room class: a server-authoritative tic-tac-toe, the pattern for turn-based games.
///
/// - **The server decides.** Clients send intentions (`join`, `move`, `new-game`); the room checks
///   each against the rules (``GameState``) and answers an illegal one with an error frame
///   (`not_your_turn`, `cell_taken`, ...). Nothing is stored for a rejected move.
/// - **Event log plus snapshots.** Each accepted action is an event committed to the `events`
///   table before anyone sees it; the state in memory is the events applied in order. Every
///   ``snapshotInterval`` (and before hibernation and shutdown) the room stores the state and drops
///   the events it covers; ``onStart(_:context:)`` rebuilds the state from the snapshot and the
///   events after it, so a crash loses no committed move.
/// - **A durable deadline.** After every move the schedule `forfeit` is set to the turn timeout
///   (replacing the previous one). If it fires before the next move, the player to move forfeits,
///   even if the room hibernated or the node restarted meanwhile.
///
/// Every change is broadcast as a `state` frame (see ``StateFrame``); a client also gets one on
/// connecting, and `GET /rooms/{kind}/{id}/state` answers the same. Seats go to the first two users
/// who send `join`; anyone else watches.
public final class GameRoom: Room {
    public static let className = "game"

    /// Snapshot every 30 s by default; a kind can set `snapshotIntervalSeconds`.
    public static var snapshotInterval: Duration? { .seconds(30) }

    public static var migrations: RoomMigrations {
        var migrations = RoomMigrations()
        migrations.add("v1") { db in
            try db.execute(sql: "CREATE TABLE events (seq INTEGER PRIMARY KEY, event TEXT NOT NULL) STRICT")
        }
        return migrations
    }

    private let options: GameOptions
    private var state = GameState()
    private var snapshotSeq: Int64 = 0

    public init(options: GameOptions) {
        self.options = options
    }

    public func onStart(_ activation: Activation, context: isolated RoomContext) async throws {
        let snapshot = try context.storage.kv.get("snapshot", as: GameSnapshot.self)
        state = snapshot?.state ?? GameState()
        snapshotSeq = snapshot?.seq ?? 0
        let decoder = JSONDecoder()
        for row in try context.storage.fetchAll(
            "SELECT event FROM events WHERE seq > ? ORDER BY seq", arguments: [snapshotSeq])
        {
            state.apply(try decoder.decode(GameEvent.self, from: Data((row["event"] as String).utf8)))
        }
    }

    public func onConnect(_ connection: RoomConnection, context: isolated RoomContext) async throws {
        context.send(try stateFrame(context: context), to: connection)
    }

    public func onMessage(_ message: ClientMessage, from connection: RoomConnection, context: isolated RoomContext)
        async throws
    {
        let command = try message.decodeJSON(GameCommand.self)
        switch command.type {
        case "join":
            guard let event = try state.join(connection.user) else {
                context.send(try stateFrame(context: context), to: connection)
                return
            }
            try record(event, context: context)
        case "move":
            try record(try state.move(by: connection.user, cell: command.cell), context: context)
        case "new-game":
            try record(try state.newGame(by: connection.user), context: context)
        default:
            throw RoomError.badRequest(
                .unknownType, "unknown frame type '\(command.type)'; expected join, move or new-game")
        }
    }

    public func onSchedule(_ fire: ScheduleFire, context: isolated RoomContext) async throws {
        guard fire.name == "forfeit" else { return }
        let deadline = try fire.payload(as: ForfeitDeadline.self)
        // A move made in time replaced this schedule; a late duplicate firing finds the game moved on.
        guard state.status == .playing, deadline.game == state.game, deadline.moves == state.moves else { return }
        try record(.forfeit(mark: state.turn), context: context)
    }

    public func onSnapshot(context: isolated RoomContext) async throws {
        let seq = context.lastSequence
        guard seq != snapshotSeq else { return }
        try context.storage.kv.set("snapshot", GameSnapshot(state: state, seq: seq))
        try context.storage.execute("DELETE FROM events WHERE seq <= ?", arguments: [seq])
        snapshotSeq = seq
    }

    public func onRequest(_ request: RoomRequest, context: isolated RoomContext) async throws -> RoomResponse {
        guard request.method == "GET", request.path == ["state"] else {
            throw RoomError.notFound(.notFound, "a game room answers GET /rooms/{kind}/{id}/state only")
        }
        return try .json(state(context: context))
    }

    /// Commits `event`, applies it, keeps the forfeit deadline in step, and broadcasts the state.
    private func record(_ event: GameEvent, context: isolated RoomContext) throws {
        let seq = try context.nextSequence()
        let json = String(decoding: try JSONEncoder().encode(event), as: UTF8.self)
        try context.storage.execute("INSERT INTO events (seq, event) VALUES (?, ?)", arguments: [seq, json])
        state.apply(event)
        if state.status == .playing {
            try context.schedule(
                "forfeit", .after(.milliseconds(Int64(options.turnTimeoutSeconds * 1000))),
                payload: ForfeitDeadline(game: state.game, moves: state.moves))
        } else {
            try context.cancelSchedule("forfeit")
        }
        context.broadcast(try stateFrame(context: context))
    }

    private func state(context: isolated RoomContext) throws -> StateFrame {
        let deadline = state.status == .playing ? try context.schedules().first { $0.name == "forfeit" }?.dueAt : nil
        return StateFrame(state, seq: context.lastSequence, turnDeadline: deadline)
    }

    private func stateFrame(context: isolated RoomContext) throws -> OutboundFrame {
        try .json(state(context: context))
    }
}
