import Synchronization

/// Room databases left open after their rooms hibernated, least recently used first out.
///
/// Opening a room's file is most of the cost of waking it: SQLite opens three files, rebuilds the
/// WAL's index and parses the whole schema (about 0.5 ms for a chat room, before any statement of
/// the room's is compiled again). A room that hibernates parks its open `RoomStorage` here
/// instead of closing it, and the next activation of that room takes it back, with its schema and
/// compiled statements. The room object itself is gone: only SQLite's connection is kept.
///
/// Parked databases hold file descriptors and memory (about 100 KB each), so the pool is bounded
/// three times: by `storage.warmDatabases`; by the open-file budget, which every open counts
/// against (`RoomRuntime.closeWarmDatabasesOverBudget()` closes the oldest parked databases
/// whenever a room takes a place); and in time, `storage.warmSeconds` after parking (a room that
/// stays asleep that long gives its memory back). A deleted room's parked database is closed
/// before its files are removed; the node closes them all when it stops.
final class WarmDatabases: Sendable {
    /// A room's storage in transit between a hibernated room and its next activation.
    ///
    /// `@unchecked Sendable`: `RoomStorage` is used by one thread at a time, its room's shard.
    /// Once parked, nothing uses it until it leaves the pool, whole, to exactly one taker: the
    /// room's next activation (on the same shard), or whoever closes it.
    struct Parked: @unchecked Sendable {
        let storage: RoomStorage
        let since: ContinuousClock.Instant
    }

    private struct State {
        var order = LRUList<RoomAddress>()
        var parked: [RoomAddress: Parked] = [:]

        mutating func remove(_ address: RoomAddress) -> Parked? {
            order.remove(address)
            return parked.removeValue(forKey: address)
        }
    }

    /// The most databases parked at once; 0 turns the pool off.
    let capacity: Int
    private let state = Mutex(State())

    init(capacity: Int) {
        self.capacity = max(0, capacity)
    }

    /// Databases parked now.
    var count: Int { state.withLock { $0.parked.count } }

    /// Parks `storage`, the open database of the room at `address`, which just hibernated.
    /// Returns what the caller must close: `storage` itself when the pool is off, or the oldest
    /// parked database when the pool is full.
    func park(_ storage: RoomStorage, of address: RoomAddress) -> Parked? {
        let parked = Parked(storage: storage, since: .now)
        guard capacity > 0 else { return parked }
        return state.withLock { state in
            var evicted = state.parked.updateValue(parked, forKey: address)
            state.order.touch(address)
            if evicted == nil, state.parked.count > capacity, let oldest = state.order.oldest {
                evicted = state.remove(oldest)
            }
            return evicted
        }
    }

    /// Takes the parked database of the room at `address`, if there is one.
    func take(_ address: RoomAddress) -> Parked? {
        state.withLock { $0.remove(address) }
    }

    /// Takes the least recently parked database, if any.
    func takeOldest() -> Parked? {
        state.withLock { state in state.order.oldest.flatMap { state.remove($0) } }
    }

    /// Takes the databases parked before `instant`, oldest first.
    func takeParked(before instant: ContinuousClock.Instant) -> [Parked] {
        state.withLock { state in
            var expired: [Parked] = []
            while let oldest = state.order.oldest, let parked = state.parked[oldest], parked.since < instant {
                _ = state.remove(oldest)
                expired.append(parked)
            }
            return expired
        }
    }

    /// Takes every parked database.
    func takeAll() -> [Parked] {
        state.withLock { state in
            defer { state = State() }
            return Array(state.parked.values)
        }
    }
}
