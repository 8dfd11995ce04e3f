/// What the warm-up looked like, measured like the window after it rather than hidden: a fresh
/// server's first seconds (rooms created, files opened, caches cold) show here.
public struct WarmupSummary: Encodable, Sendable {
    /// Seconds of warm-up measured.
    public let seconds: Double
    /// Messages acknowledged per second during the warm-up.
    public let messagesPerSecond: Double
    /// Deliveries per second during the warm-up.
    public let deliveriesPerSecond: Double
    /// Latency during the warm-up.
    public let latencyMicros: LatencySummary
    /// Errors during the warm-up.
    public let errors: Int
}
