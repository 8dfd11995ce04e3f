import Synchronization

/// The count of room database files open now, and the most ever open at once: the gauge
/// `rooms_open_databases`, measured where files open and close rather than derived from the rooms
/// in memory (in-memory databases of ephemeral rooms, and of rooms not created yet, hold no file
/// and are not counted).
final class OpenDatabases: Sendable {
    private let state = Mutex<(open: Int, peak: Int)>((0, 0))

    init() {}

    /// Files open now.
    var open: Int { state.withLock { $0.open } }

    /// The most files that were open at once.
    var peak: Int { state.withLock { $0.peak } }

    func opened() {
        state.withLock { state in
            state.open += 1
            state.peak = max(state.peak, state.open)
        }
    }

    func closed() {
        state.withLock { $0.open -= 1 }
    }
}
