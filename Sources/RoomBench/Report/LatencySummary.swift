import Histogram

/// Latency percentiles in microseconds, as the JSON report carries them.
public struct LatencySummary: Encodable, Sendable {
    public var p50: UInt64
    public var p90: UInt64
    public var p99: UInt64
    public var p999: UInt64
    public var max: UInt64
    /// How many latencies were recorded.
    public var count: UInt64

    init(_ histogram: Histogram<UInt64>) {
        p50 = histogram.valueAtPercentile(50)
        p90 = histogram.valueAtPercentile(90)
        p99 = histogram.valueAtPercentile(99)
        p999 = histogram.valueAtPercentile(99.9)
        max = histogram.max
        count = histogram.totalCount
    }
}
