import Histogram

/// What the connections of one event loop observed. Only touched on that loop's thread, so
/// recording costs no lock; the loops' stats are merged at the end.
final class LoopStats: @unchecked Sendable {
    /// Whether the measurement window is open (outside it nothing is counted).
    var measuring = false
    /// Latency of each message, from its send to its receipt, in microseconds.
    var latency = Histogram<UInt64>(highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: .three)
    /// Messages (or raw frames) received by any connection.
    var deliveries = 0
    /// Messages acknowledged to their sender (chat mode) or received back by it (raw mode).
    var acknowledged = 0
    /// Messages sent.
    var sent = 0
    /// Error frames, failed requests, unexpected closes.
    var errors = 0

    func record(latencyMicros: UInt64) {
        guard measuring else { return }
        deliveries += 1
        _ = latency.record(latencyMicros)
    }

    func reset() {
        latency.reset()
        deliveries = 0
        acknowledged = 0
        sent = 0
        errors = 0
    }
}
