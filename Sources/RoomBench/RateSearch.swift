import Foundation

/// `--slo-p99 MS`: the highest rate a server holds with its latency's 99th percentile within
/// MS, no error, and at least 95 % of the rate achieved. The rate doubles from its start until it
/// no longer holds, then is bisected between the last that held and the first that did not,
/// down to 5 %. Every probe runs the scenario (warm-up and duration) on the same server.
struct RateSearch {
    let options: BenchOptions
    let slo: Double

    /// Where the search starts when `--rate` gives no rate.
    static func startRate(_ scenario: Scenario) -> Double {
        switch scenario {
        case .fanout, .doc, .slow: 100
        case .rooms: 1_000
        case .ingest, .direct: 500
        case .activation, .idle, .ai, .soak: 1
        }
    }

    /// The most probes one search makes.
    static let maxProbes = 16

    /// Searches on `target` with `probe`, which runs the scenario at a rate.
    func search(
        target: String, log: @Sendable (String) -> Void, _ probe: (BenchOptions) async throws -> BenchResult
    ) async throws
        -> (best: BenchResult?, probes: [RateProbe])
    {
        var probes: [RateProbe] = []
        var best: BenchResult?
        var held: Double?
        var failed: Double?
        var rate: Double = if case .perSecond(let start) = options.rate { start } else { Self.startRate(options.scenario) }
        while probes.count < Self.maxProbes {
            var probing = options
            probing.rate = .perSecond(rate)
            let result = try await probe(probing)
            let holds = result.latencyMicros.p99 <= UInt64(slo * 1000) && result.errors == 0
                && result.messagesPerSecond >= rate * 0.95
            probes.append(
                RateProbe(
                    target: target, rate: rate, messagesPerSecond: result.messagesPerSecond,
                    p99Micros: result.latencyMicros.p99, errors: result.errors, held: holds))
            log(
                "\(target) at \(Int(rate)) msg/s: p99 \(String(format: "%.2f", Double(result.latencyMicros.p99) / 1000)) ms, "
                    + "\(Int(result.messagesPerSecond)) msg/s achieved, \(result.errors) errors: \(holds ? "held" : "not held")")
            if holds {
                held = rate
                best = result
            } else {
                failed = rate
            }
            guard let low = held else {
                // Even the start did not hold: halve it, down to 1 msg/s.
                guard rate > 1 else { break }
                rate = max(1, rate / 2)
                continue
            }
            guard let high = failed else {
                rate = low * 2
                continue
            }
            guard (high - low) / low > 0.05 else { break }
            rate = ((low + high) / 2).rounded()
        }
        return (best, probes)
    }
}
