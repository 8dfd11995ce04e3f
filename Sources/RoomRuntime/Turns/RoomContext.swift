import Foundation
public import Logging

/// A live room: the actor its hooks run on, and their window on the runtime.
///
/// Every hook of a ``Room`` receives the context as an `isolated` parameter, so inside a hook
/// you call it synchronously:
///
/// ```swift
/// func onMessage(_ message: ClientMessage, from connection: RoomConnection,
///                context: isolated RoomContext) async throws {
///     let seq = try context.nextSequence()
///     try context.storage.execute("INSERT INTO notes (seq, text) VALUES (?, ?)", arguments: [seq, text])
///     context.broadcast(try .json(Note(seq: seq, text: text)))
/// }
/// ```
///
/// The context runs on its room's shard. It handles one event at a time (a turn). Writes of a
/// turn commit together; when several events are queued, their turns share one commit (group
/// commit), and what the turns send (``send(_:to:)``, ``broadcast(_:except:)``, HTTP responses) is
/// held until that commit succeeds: the output gate. If the commit fails, the output is dropped
/// and every sender gets a `storage_failed` error instead, and the room restarts from its file.
public actor RoomContext {
    /// The room's address.
    public nonisolated let address: RoomAddress
    /// The room's storage: key-value, SQL and the sequence.
    public let storage: RoomStorage
    /// A logger carrying the room's address.
    public let logger: Logger

    /// The `id` of the client frame the current turn handles, once the room has decoded it.
    ///
    /// Set it as soon as you know it: errors the runtime reports for the turn (such as a failed
    /// commit) then name the frame they answer. Reset at the start of every turn.
    public var currentFrameID: String? {
        get { gate.frameID }
        set { gate.frameID = newValue }
    }

    nonisolated let slot: RoomSlot
    let room: any Room
    let host: any RoomHost
    /// Output held for the commit (see ``OutputGate``).
    var gate = OutputGate()
    /// The room's next alarm as the node knows it.
    var alarms: AlarmMirror
    /// Memory may hold changes that were never stored: the room must restart from its file.
    var mustRestart = false
    /// Whether the room, waiting in a call, gave its place under the cap (and its file) to
    /// another room.
    var placeGivenUp = false
    /// Whether a batch of due schedules is running (a handler may be waiting in a call, while the
    /// room handles its other events).
    var firingSchedules = false
    /// Work the room runs outside its turns (``startWork(_:keepsActive:_:)``).
    var work = WorkRegistry()
    /// What the room set ``keepsActive`` to.
    var keepsActiveFlag = false
    /// The room's members (`members` and `direct` kinds), read on first use; dropped when a turn
    /// fails, since a failed turn's writes roll back and memory does not.
    var memberCache: MemberList?
    /// The room's timers (``setTimer(_:after:)``), by name: memory only.
    var timers: [String: RoomTimer] = [:]
    /// The member changes of the current turn, for ``Room/onMembersChanged(_:context:)``.
    var memberChanges: [MemberChange] = []

    public nonisolated var unownedExecutor: UnownedSerialExecutor {
        slot.shard.asUnownedSerialExecutor()
    }

    init(slot: RoomSlot, storage: RoomStorage, room: any Room, host: any RoomHost, alarms: AlarmMirror) {
        self.address = slot.address
        self.slot = slot
        self.storage = storage
        self.room = room
        self.host = host
        self.alarms = alarms
        var logger = host.logger
        logger[metadataKey: "room"] = "\(slot.address.path)"
        self.logger = logger
    }

    /// The room's kind.
    public nonisolated var kind: String { address.kind }

    /// The room's id.
    public nonisolated var id: String { address.id }

    /// Allocates the room's next sequence number (1, 2, 3, ...), stored with the turn.
    ///
    /// The sequence is the runtime's: `GET /rooms/{kind}/{id}` reports its last committed value as
    /// `lastSeq` without waking the room, and the `welcome` frame carries it. Numbers are
    /// gap-free: a failed turn gives its numbers back.
    public func nextSequence() throws -> Int64 {
        try storage.nextSequence()
    }

    /// The last sequence number allocated, including this turn's.
    public var lastSequence: Int64 { storage.sequence }

    /// The outside services the node gives its rooms (see ``RoomServices``).
    public nonisolated var services: RoomServices { host.services }

    /// The current time in milliseconds since 1970.
    public nonisolated func now() -> Int64 { WallClock.millisecondsSince1970() }
}
