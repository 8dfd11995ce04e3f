public import Logging

/// The node as a live room sees it: everything a room's turn engine may ask of the runtime that
/// hosts it, and nothing more.
///
/// A ``RoomContext`` holds this and no other part of the node: the accounting of places under the
/// active-room cap (use, calls, giving a place up and taking it back), sending requests to other
/// rooms, the directory row of a room created on its first write, metrics, limits, and whether
/// the node is stopping. The runtime implements it (``RoomRuntime``); a node that forwards rooms
/// to other nodes can implement it without the turn engine changing.
protocol RoomHost: AnyObject, Sendable {
    /// The node's logger.
    var logger: Logger { get }
    /// The node's metrics.
    var metrics: RuntimeMetrics { get }
    /// The most queued turns of one room that share a single commit.
    var groupCommitLimit: Int { get }
    /// The outside services the node gives its rooms.
    var services: RoomServices { get }
    /// Whether the node is stopping: rooms finish what is queued, then hibernate.
    var isStopping: Bool { get }
    /// Whether the node stopped waiting for rooms to finish: what is still queued is refused.
    var isAbandoning: Bool { get }
    /// Whether a room waits for a place under the cap (a room waiting in a call then closes its
    /// file).
    var isContended: Bool { get }

    /// Records that `slot`'s room was just used (its idle timer and its place in the LRU order).
    func touch(_ slot: RoomSlot)
    /// `slot`'s room left memory (`ending`): its `storage` is closed, or kept open for the room's
    /// next activation.
    func roomDidStop(_ slot: RoomSlot, storage: RoomStorage, ending: RoomContext.Ending)
    /// The room at `address` committed its sequence up to `sequence` (long polls wake).
    func sequenceAdvanced(_ address: RoomAddress, to sequence: Int64)
    /// `slot`'s room starts waiting in a call to another room.
    func beginCall(_ slot: RoomSlot)
    /// `slot`'s room stopped waiting in a call.
    func endCall(_ slot: RoomSlot)
    /// `slot`'s room, waiting in a call, closed its file: its place goes to a room that waits.
    func gaveUpPlace(_ slot: RoomSlot)
    /// Takes a place again for `slot`'s room before it reopens its file (waiting at the cap).
    func reacquirePlace(_ slot: RoomSlot) async
    /// Sends `request` to the room at `address`; `reply` gets the answer once committed.
    func send(_ request: RoomRequest, to address: RoomAddress, reply: ResponseHandler)
    /// Records, durably, a room created on its first write, before its file is written.
    func register(_ address: RoomAddress, nextAlarm: Int64?) throws
    /// Forgets a room whose creation failed after ``register(_:nextAlarm:)``.
    func unregister(_ address: RoomAddress)
}
