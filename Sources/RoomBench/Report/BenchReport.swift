import Foundation

/// What `rooms bench` prints and writes: the result against DurableRooms and, with `--peer`, the
/// same scenario against the peer and the ratio between the two.
public struct BenchReport: Codable, Sendable {
    public var scenario: Scenario
    public var config: BenchOptions
    public var messagesPerSecond: Double
    public var deliveriesPerSecond: Double
    public var latencyMicros: LatencySummary
    public var serverCpuPercent: Double?
    public var serverRssBytes: Int?
    public var errors: Int
    public var rssBytesPerConnection: Double?
    public var notes: [String]
    /// Every run: DurableRooms first, then the peer.
    public var runs: [BenchResult]
    /// DurableRooms' deliveries per second over the peer's, with `--peer`.
    public var deliveriesRatioToPeer: Double?

    public init(_ runs: [BenchResult]) {
        let main = runs[0]
        scenario = main.scenario
        config = main.config
        messagesPerSecond = main.messagesPerSecond
        deliveriesPerSecond = main.deliveriesPerSecond
        latencyMicros = main.latencyMicros
        serverCpuPercent = main.serverCpuPercent
        serverRssBytes = main.serverRssBytes
        errors = main.errors
        rssBytesPerConnection = main.rssBytesPerConnection
        notes = main.notes
        self.runs = runs
        if runs.count > 1, runs[1].deliveriesPerSecond > 0 {
            deliveriesRatioToPeer = main.deliveriesPerSecond / runs[1].deliveriesPerSecond
        }
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
        if let perConnection = rssBytesPerConnection {
            rows.append(("RSS/connection", [String(format: "%.0f B", perConnection)]))
        }
        if let ratio = deliveriesRatioToPeer {
            rows.append(("ratio to peer", [String(format: "%.2fx", ratio)]))
        }
        let width = rows.map(\.0.count).max() ?? 0
        var text = "rooms bench \(scenario.rawValue): \(config.rooms) room(s) x \(config.clients) client(s), "
            + "rate \(config.rate), \(config.size) B, \(Int(config.duration)) s\(config.raw ? ", raw" : "")\n"
        for (name, values) in rows {
            text += name.padding(toLength: width, withPad: " ", startingAt: 0) + "  "
                + values.map { $0.padding(toLength: 18, withPad: " ", startingAt: 0) }.joined() + "\n"
        }
        for note in notes { text += "note: \(note)\n" }
        return text
    }
}
