import Synchronization

/// Rooms whose file could not be opened or migrated (corrupt, unreadable, from a newer version of
/// its class), kept out of service with backoff.
///
/// Without it, every event for a broken room would try to open the file again and log the same
/// failure. Instead the first failure logs the path once and counts in `rooms_quarantined_total`;
/// events are refused at once with `room_unavailable` until the backoff is over (1 s, then twice
/// as long after each failed retry, at most ``maxBackoff``); the next event then tries again, and
/// a success lifts the quarantine. Other rooms are not affected.
final class Quarantine: Sendable {
    /// The longest wait between two attempts to open a broken room.
    static let maxBackoff = Duration.seconds(300)

    private struct Entry {
        var failures: Int
        var retryAt: ContinuousClock.Instant
    }

    private let initialBackoff: Duration
    private let entries = Mutex<[RoomAddress: Entry]>([:])
    /// The number of entries, readable without the lock: every event asks, and almost always
    /// nothing is in quarantine.
    private let size = Atomic(0)

    init(initialBackoff: Duration) {
        self.initialBackoff = initialBackoff
    }

    /// The number of rooms in quarantine now.
    var count: Int { size.load(ordering: .relaxed) }

    /// Whether `address` must not be activated yet (its backoff is not over).
    func isHeld(_ address: RoomAddress) -> Bool {
        guard size.load(ordering: .relaxed) > 0 else { return false }
        let now = ContinuousClock.now
        return entries.withLock { $0[address].map { now < $0.retryAt } ?? false }
    }

    /// Records a failure to open `address`; returns true for the first failure (the one to log).
    @discardableResult
    func recordFailure(_ address: RoomAddress) -> Bool {
        entries.withLock { entries in
            let failures = (entries[address]?.failures ?? 0) + 1
            var backoff = initialBackoff
            for _ in 1..<min(failures, 20) where backoff < Self.maxBackoff { backoff *= 2 }
            entries[address] = Entry(failures: failures, retryAt: .now + min(backoff, Self.maxBackoff))
            size.store(entries.count, ordering: .relaxed)
            return failures == 1
        }
    }

    /// `address` opened (or was deleted): it is out of quarantine. Returns whether it was in.
    @discardableResult
    func lift(_ address: RoomAddress) -> Bool {
        guard size.load(ordering: .relaxed) > 0 else { return false }
        return entries.withLock { entries in
            defer { size.store(entries.count, ordering: .relaxed) }
            return entries.removeValue(forKey: address) != nil
        }
    }
}
