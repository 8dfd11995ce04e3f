import Foundation

/// What `rooms bench` prints and writes: the result against DurableRooms and, with `--peer`, the
/// same scenario against the peer and the ratio between the two.
///
/// Its JSON is the DurableRooms run's fields at the top level (`scenario`, `config`,
/// `messagesPerSecond`, ...), plus `runs` (every run) and `deliveriesRatioToPeer`.
public struct BenchReport: Encodable, Sendable {
    /// Every run: DurableRooms first, then the peer.
    public let runs: [BenchResult]

    public init(_ runs: [BenchResult]) {
        precondition(!runs.isEmpty, "a report has at least one run")
        self.runs = runs
    }

    /// The DurableRooms run.
    public var main: BenchResult { runs[0] }

    /// DurableRooms' deliveries per second over the peer's, with `--peer`.
    public var deliveriesRatioToPeer: Double? {
        guard runs.count > 1, runs[1].deliveriesPerSecond > 0 else { return nil }
        return main.deliveriesPerSecond / runs[1].deliveriesPerSecond
    }

    private enum CodingKeys: String, CodingKey {
        case runs, deliveriesRatioToPeer
    }

    public func encode(to encoder: any Encoder) throws {
        try main.encode(to: encoder)
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(runs, forKey: .runs)
        try container.encodeIfPresent(deliveriesRatioToPeer, forKey: .deliveriesRatioToPeer)
    }

    /// The report as a table.
    public var table: String {
        func number(_ value: Double) -> String { String(format: "%.0f", value) }
        func millis(_ micros: UInt64) -> String { String(format: "%.2f ms", Double(micros) / 1000) }
        var rows: [(String, [String])] = [
            ("target", runs.map(\.target)),
            ("messages/s", runs.map { number($0.messagesPerSecond) }),
            ("deliveries/s", runs.map { number($0.deliveriesPerSecond) }),
            ("latency p50", runs.map { millis($0.latencyMicros.p50) }),
            ("latency p90", runs.map { millis($0.latencyMicros.p90) }),
            ("latency p99", runs.map { millis($0.latencyMicros.p99) }),
            ("latency p99.9", runs.map { millis($0.latencyMicros.p999) }),
            ("latency max", runs.map { millis($0.latencyMicros.max) }),
            ("samples", runs.map { "\($0.latencyMicros.count)" }),
            ("server CPU", runs.map { $0.serverCpuPercent.map { String(format: "%.0f%%", $0) } ?? "?" }),
            ("server peak RSS", runs.map { $0.serverRssBytes.map { String(format: "%.1f MiB", Double($0) / 1_048_576) } ?? "?" }),
            ("errors", runs.map { "\($0.errors)" }),
        ]
        if let perConnection = main.rssBytesPerConnection {
            rows.append(("RSS/connection", [String(format: "%.0f B", perConnection)]))
        }
        if let ratio = deliveriesRatioToPeer {
            rows.append(("ratio to peer", [String(format: "%.2fx", ratio)]))
        }
        let width = rows.map(\.0.count).max() ?? 0
        let config = main.config
        var text = "rooms bench \(main.scenario.rawValue): \(config.rooms) room(s) x \(config.clients) client(s), "
            + "rate \(config.rate), \(config.size) B, \(Int(config.duration)) s\(config.raw ? ", raw" : "")\n"
        for (name, values) in rows {
            text += name.padding(toLength: width, withPad: " ", startingAt: 0) + "  "
                + values.map { $0.padding(toLength: 18, withPad: " ", startingAt: 0) }.joined() + "\n"
        }
        for note in main.notes { text += "note: \(note)\n" }
        return text
    }
}
