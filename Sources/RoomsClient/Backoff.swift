/// Full-jitter exponential backoff: the n-th delay is random in `0...min(maximum, minimum × 2^n)`.
struct Backoff: Sendable {
    let minimum: Duration
    let maximum: Duration
    /// Attempts since the last connection that lasted.
    private(set) var attempt = 0

    init(minimum: Duration, maximum: Duration) {
        self.minimum = minimum
        self.maximum = maximum
    }

    /// The next delay, counting an attempt.
    mutating func next() -> Duration {
        let cap = min(maximum, minimum * Double(1 << min(attempt, 30)))
        attempt += 1
        let milliseconds = cap.milliseconds
        guard milliseconds > 0 else { return .zero }
        return .milliseconds(Int64.random(in: 0...milliseconds))
    }

    /// Starts again from the first delay.
    mutating func reset() {
        attempt = 0
    }
}

extension Duration {
    /// The duration in whole milliseconds.
    var milliseconds: Int64 {
        components.seconds * 1000 + components.attoseconds / 1_000_000_000_000_000
    }
}
