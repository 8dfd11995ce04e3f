import Synchronization

/// When an answer last made progress, shared by its reader and its watchdog.
final class LastProgress: Sendable {
    private let last = Mutex(ContinuousClock.now)

    var instant: ContinuousClock.Instant { last.withLock { $0 } }

    func note() { last.withLock { $0 = .now } }
}
