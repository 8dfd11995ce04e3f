/// What work started with ``RoomContext/startWork(_:keepsActive:_:)`` holds: the way back into
/// its room.
public struct RoomWork<R: Room>: Sendable {
    let context: RoomContext

    /// Queues `update` as a turn of the room, behind the events already waiting. It receives the
    /// room instance and the context, like a hook, and its output waits for its commit.
    ///
    /// - Returns: false when the room is no longer active: the update was dropped, and the work
    ///   should end (it is being cancelled).
    @discardableResult
    public func report(_ update: @escaping @Sendable (R, isolated RoomContext) async throws -> Void) -> Bool {
        context.enqueue(R.self, update)
    }

    /// Whether the work was cancelled: the room is leaving memory, or cancelled it.
    public var isCancelled: Bool { Task.isCancelled }
}
