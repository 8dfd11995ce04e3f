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
    /// The harness's own CPU use during the window, in percent of one core.
    var clientCpuPercent: Double? = nil
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
        let harnessBefore = ProcessSample.read(pid: getpid())
        try await client.measure(true)
        let started = ContinuousClock.now
        try await body()
        try await client.measure(false)
        let seconds = (ContinuousClock.now - started) / .seconds(1)
        let after = target.sample()
        let harnessAfter = ProcessSample.read(pid: getpid())
        let stats = try await client.merged()
        let cpu = before.flatMap { before in after.map { $0.cpuPercent(since: before) } }
        var measurement = Measurement(
            stats: stats, seconds: seconds, serverCpuPercent: cpu, serverPeakRSS: after?.peakRSSBytes)
        measurement.clientCpuPercent = harnessBefore.flatMap { before in harnessAfter.map { $0.cpuPercent(since: before) } }
        return measurement
    }

    func result(
        _ options: BenchOptions, target: BenchTarget, messages: Int? = nil, latency: Histogram<UInt64>? = nil,
        notes: [String] = []
    ) -> BenchResult {
        var notes = notes
        // The harness's event-loop threads are busy nearly all the time: the figure may be the
        // harness's limit rather than the server's.
        if let client = clientCpuPercent, client >= 90 * Double(options.clientThreads) {
            notes.append(
                String(
                    format: "the harness was saturated (%.0f%% CPU on %d client thread%@): the figure may be its limit, not the server's; try --client-threads",
                    client, options.clientThreads, options.clientThreads == 1 ? "" : "s"))
        }
        var result = BenchResult(
            scenario: options.scenario, config: options, target: target.name,
            messagesPerSecond: Double(messages ?? stats.acknowledged) / seconds,
            deliveriesPerSecond: Double(stats.deliveries) / seconds,
            latencyMicros: LatencySummary(latency ?? stats.latency), serverCpuPercent: serverCpuPercent,
            serverRssBytes: serverPeakRSS, errors: stats.errors, seconds: seconds, notes: notes)
        result.warmup = warmup
        result.clientCpuPercent = clientCpuPercent
        return result
    }
}
