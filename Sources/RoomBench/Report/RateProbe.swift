/// One rate tried by `--slo-p99`: what was asked, what came out, and whether it held.
public struct RateProbe: Encodable, Sendable {
    /// The server probed (`rooms` or the peer).
    public let target: String
    /// The rate asked for, messages per second in total.
    public let rate: Double
    /// The rate achieved.
    public let messagesPerSecond: Double
    /// The latency's 99th percentile, in microseconds.
    public let p99Micros: UInt64
    public let errors: Int
    /// Whether the rate held: p99 within the target, no error, and at least 95 % of the rate
    /// achieved.
    public let held: Bool
}
