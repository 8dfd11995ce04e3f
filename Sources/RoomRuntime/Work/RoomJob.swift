/// Work queued with ``RoomContext/enqueue(_:_:)``: it runs as a turn of the activation that
/// queued it, and is dropped if the room left memory in between.
struct RoomJob: Sendable {
    /// The context that queued the job.
    let origin: ObjectIdentifier
    let work: @Sendable (any Room, isolated RoomContext) async throws -> Void
}
