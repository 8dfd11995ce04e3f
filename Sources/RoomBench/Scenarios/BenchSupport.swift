import Histogram
import Synchronization

/// A flag set once, read from any thread.
final class StopFlag: Sendable {
    private let flag = Atomic(false)
    var isSet: Bool { flag.load(ordering: .relaxed) }
    func set() { flag.store(true, ordering: .relaxed) }
}

/// Hands out 0, 1, 2, ... to any thread.
final class Counter: Sendable {
    private let value = Atomic(0)
    func take() -> Int { value.wrappingAdd(1, ordering: .relaxed).oldValue }
}

/// Latencies recorded from several threads (the `activation` wake-ups).
final class LatencyLog: Sendable {
    private let state = Mutex((Histogram<UInt64>(highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: .three), 0))

    func record(_ micros: UInt64, ok: Bool) {
        state.withLock {
            _ = $0.0.record(micros)
            if !ok { $0.1 += 1 }
        }
    }

    var histogram: Histogram<UInt64> { state.withLock { $0.0 } }
    var failures: Int { state.withLock { $0.1 } }
}
