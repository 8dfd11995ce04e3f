import Foundation
import Histogram
import NIOCore

/// A measurement window: warm-up, then `duration` seconds during which the loops count, with
/// the server sampled at both ends.
struct Measurement {
    let stats: LoopStats
    let seconds: Double
    let serverCpuPercent: Double?
    let serverPeakRSS: Int?
    /// The warm-up, measured on its own (nil when there was none).
    var warmup: WarmupSummary? = nil

    /// Measures the warm-up, then the duration, as two windows.
    static func run(client: LoadClient, target: BenchTarget, options: BenchOptions) async throws -> Measurement {
        var warmup: WarmupSummary?
        if options.warmup > 0 {
            let first = try await window(client: client, target: target) {
                try await Task.sleep(for: .milliseconds(Int64(options.warmup * 1000)))
            }
            warmup = WarmupSummary(
                seconds: first.seconds, messagesPerSecond: Double(first.stats.acknowledged) / first.seconds,
                deliveriesPerSecond: Double(first.stats.deliveries) / first.seconds,
                latencyMicros: LatencySummary(first.stats.latency), errors: first.stats.errors)
        }
        var measured = try await window(client: client, target: target) {
            try await Task.sleep(for: .milliseconds(Int64(options.duration * 1000)))
        }
        measured.warmup = warmup
        return measured
    }

    /// Measures while `body` runs.
    static func window(
        client: LoadClient, target: BenchTarget, _ body: () async throws -> Void
    ) async throws -> Measurement {
        let before = target.sample()
        try await client.measure(true)
        let started = ContinuousClock.now
        try await body()
        try await client.measure(false)
        let seconds = (ContinuousClock.now - started) / .seconds(1)
        let after = target.sample()
        let stats = try await client.merged()
        let cpu = before.flatMap { before in after.map { $0.cpuPercent(since: before) } }
        return Measurement(stats: stats, seconds: seconds, serverCpuPercent: cpu, serverPeakRSS: after?.peakRSSBytes)
    }

    func result(
        _ options: BenchOptions, target: BenchTarget, messages: Int? = nil, latency: Histogram<UInt64>? = nil,
        notes: [String] = []
    ) -> BenchResult {
        var result = BenchResult(
            scenario: options.scenario, config: options, target: target.name,
            messagesPerSecond: Double(messages ?? stats.acknowledged) / seconds,
            deliveriesPerSecond: Double(stats.deliveries) / seconds,
            latencyMicros: LatencySummary(latency ?? stats.latency), serverCpuPercent: serverCpuPercent,
            serverRssBytes: serverPeakRSS, errors: stats.errors, seconds: seconds, notes: notes)
        result.warmup = warmup
        return result
    }
}
