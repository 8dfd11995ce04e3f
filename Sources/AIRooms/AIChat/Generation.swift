import RoomRuntime

/// The answer the assistant is streaming, as the room keeps it in memory.
struct Generation {
    /// The stream's id.
    let stream: String
    /// The prompt it answers.
    let replyTo: Int64
    /// The text so far.
    var text = ""
    /// The index of the next delta.
    var nextIndex = 0
    /// When the last checkpoint was written.
    var checkpointedAt = ContinuousClock.now
    /// The work reading the provider.
    var work: WorkHandle?
}
