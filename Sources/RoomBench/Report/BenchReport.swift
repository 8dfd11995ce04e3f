import Foundation

/// What `rooms bench` prints and writes: the results against DurableRooms and, with `--peer`, the
/// same scenario against the peer and the ratio between the two; with `--runs N`, every run and
/// the median and spread of each figure.
///
/// Its JSON is the first DurableRooms run's fields at the top level (`scenario`, `config`,
/// `messagesPerSecond`, ...), plus `runs` (every run, in the order they ran), `summary` (per
/// target: median, min and max of each figure), `deliveriesRatioToPeer` (the median of the
/// per-round ratios) and `deliveriesRatiosToPeer` (each round's).
public struct BenchReport: Encodable, Sendable {
    /// The name of the peer's runs.
    static let peerName = "node-ws"

    /// Every run, in the order they ran (with `--slo-p99`: the best probe of each target).
    public let runs: [BenchResult]
    /// `--slo-p99`: every rate tried, in order.
    public let probes: [RateProbe]

    public init(_ runs: [BenchResult], probes: [RateProbe] = []) {
        precondition(runs.contains { $0.target != Self.peerName }, "a report has at least one DurableRooms run")
        self.runs = runs
        self.probes = probes
    }

    /// The DurableRooms runs.
    public var roomsRuns: [BenchResult] { runs.filter { $0.target != Self.peerName } }
    /// The peer's runs.
    public var peerRuns: [BenchResult] { runs.filter { $0.target == Self.peerName } }

    /// The first DurableRooms run.
    public var main: BenchResult { roomsRuns[0] }

    /// Each target's runs, summarised: DurableRooms first.
    public var summary: [TargetSummary] {
        [roomsRuns, peerRuns].filter { !$0.isEmpty }.map(TargetSummary.init)
    }

    /// DurableRooms' deliveries per second over the peer's, round by round, with `--peer`.
    public var deliveriesRatiosToPeer: [Double] {
        zip(roomsRuns, peerRuns).compactMap { rooms, peer in
            peer.deliveriesPerSecond > 0 ? rooms.deliveriesPerSecond / peer.deliveriesPerSecond : nil
        }
    }

    /// The median of ``deliveriesRatiosToPeer``.
    public var deliveriesRatioToPeer: Double? {
        let ratios = deliveriesRatiosToPeer
        return ratios.isEmpty ? nil : RunSpread(ratios).median
    }

    private enum CodingKeys: String, CodingKey {
        case runs, summary, deliveriesRatioToPeer, deliveriesRatiosToPeer, probes
    }

    public func encode(to encoder: any Encoder) throws {
        try main.encode(to: encoder)
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(runs, forKey: .runs)
        try container.encode(summary, forKey: .summary)
        try container.encodeIfPresent(deliveriesRatioToPeer, forKey: .deliveriesRatioToPeer)
        if !deliveriesRatiosToPeer.isEmpty { try container.encode(deliveriesRatiosToPeer, forKey: .deliveriesRatiosToPeer) }
        if !probes.isEmpty { try container.encode(probes, forKey: .probes) }
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
            ("harness CPU", runs.map { $0.clientCpuPercent.map { String(format: "%.0f%%", $0) } ?? "?" }),
            ("server peak RSS", runs.map { $0.serverRssBytes.map { String(format: "%.1f MiB", Double($0) / 1_048_576) } ?? "?" }),
            ("errors", runs.map { "\($0.errors)" }),
        ]
        if runs.contains(where: { $0.warmup != nil }) {
            rows.append(("warm-up msg/s", runs.map { $0.warmup.map { number($0.messagesPerSecond) } ?? "-" }))
            rows.append(("warm-up p99", runs.map { $0.warmup.map { millis($0.latencyMicros.p99) } ?? "-" }))
            rows.append(("warm-up max", runs.map { $0.warmup.map { millis($0.latencyMicros.max) } ?? "-" }))
        }
        if runs.contains(where: { $0.rssBytesPerConnection != nil }) {
            rows.append(
                ("RSS/connection", runs.map { $0.rssBytesPerConnection.map { String(format: "%.0f B", $0) } ?? "-" }))
        }
        if let ratio = deliveriesRatioToPeer {
            rows.append(("ratio to peer", [String(format: "%.2fx", ratio)]))
        }
        if runs.contains(where: { $0.misbehaviour != nil }) {
            rows += misbehaviourRows
        }
        if runs.contains(where: { $0.soak != nil }) {
            let soaks = runs.map(\.soak)
            rows += [
                ("samples", soaks.map { $0.map { "\($0.samples.count)" } ?? "-" }),
                ("RSS growth", soaks.map { $0?.rssGrowthPercent.map { String(format: "%+.1f%%", $0) } ?? "-" }),
                ("descriptor growth", soaks.map { $0?.descriptorGrowth.map { "\($0 >= 0 ? "+" : "")\($0)" } ?? "-" }),
                ("open DB growth", soaks.map { $0?.openDatabaseGrowth.map { "\($0 >= 0 ? "+" : "")\($0)" } ?? "-" }),
            ]
        }
        let width = rows.map(\.0.count).max() ?? 0
        let config = main.config
        var text = "rooms bench \(main.scenario.rawValue): \(config.rooms) room(s) x \(config.clients) client(s), "
            + "rate \(config.rate), \(config.size) B, \(Int(config.duration)) s\(config.raw ? ", raw" : "")\(config.listeners == .websocket ? "" : ", \(config.listeners.rawValue) listeners")\n"
        for (name, values) in rows {
            text += name.padding(toLength: width, withPad: " ", startingAt: 0) + "  "
                + values.map { $0.padding(toLength: 18, withPad: " ", startingAt: 0) }.joined() + "\n"
        }
        for note in main.notes { text += "note: \(note)\n" }
        if roomsRuns.count > 1 { text += spreadTable }
        if !probes.isEmpty {
            text += "\nrates tried (p99 target \(main.config.sloP99Millis.map { "\($0)" } ?? "?") ms):\n"
            for probe in probes {
                text += "  \(probe.target.padding(toLength: 8, withPad: " ", startingAt: 0)) "
                    + String(format: "%8.0f msg/s asked, %8.0f achieved, p99 %8.2f ms, %d errors: ", probe.rate,
                             probe.messagesPerSecond, Double(probe.p99Micros) / 1000, probe.errors)
                    + (probe.held ? "held" : "not held") + "\n"
            }
        }
        return text
    }

    /// `slow`: the calm window beside the misbehaving one, and what became of the two clients.
    private var misbehaviourRows: [(String, [String])] {
        func millis(_ micros: UInt64) -> String { String(format: "%.2f ms", Double(micros) / 1000) }
        func mebibytes(_ bytes: Int?) -> String { bytes.map { String(format: "%.1f MiB", Double($0) / 1_048_576) } ?? "?" }
        let summaries = runs.map(\.misbehaviour)
        return [
            ("calm p50", summaries.map { $0.map { millis($0.calmLatencyMicros.p50) } ?? "-" }),
            ("calm p99", summaries.map { $0.map { millis($0.calmLatencyMicros.p99) } ?? "-" }),
            ("p99 / calm p99", summaries.map { $0.map { String(format: "%.2fx", $0.p99Ratio) } ?? "-" }),
            ("stalled: ended", summaries.map { $0.map { $0.stalledEnded ? "yes" : "no, open" } ?? "-" }),
            ("stalled: close code", summaries.map { $0.map { $0.stalledCloseCode.map { "\($0)" } ?? "none read" } ?? "-" }),
            ("maxQueuedFrames", summaries.map { $0.map { $0.maxQueuedFrames.map { "\($0)" } ?? "?" } ?? "-" }),
            ("stalled: frames read", summaries.map { $0.map { "\($0.stalledFramesReceived)" } ?? "-" }),
            ("flood: sent", summaries.map { $0.map { "\($0.floodFramesSent)" } ?? "-" }),
            ("flood: closed", summaries.map { $0.map { "\($0.floodSessionsClosed) times" } ?? "-" }),
            ("RSS calm / after", summaries.map { $0.map { "\(mebibytes($0.serverRssCalmBytes)) / \(mebibytes($0.serverRssAfterBytes))" } ?? "-" }),
        ]
    }

    /// Median [min to max] of each figure, per target, over the runs.
    private var spreadTable: String {
        func figure(_ spread: RunSpread, _ format: (Double) -> String) -> String {
            "\(format(spread.median)) [\(format(spread.min))-\(format(spread.max))]"
        }
        let count: (Double) -> String = { String(format: "%.0f", $0) }
        let millis: (Double) -> String = { String(format: "%.2f", $0 / 1000) }
        var rows: [(String, [String])] = [
            ("median of", summary.map { "\($0.runs) \($0.target) runs" }),
            ("messages/s", summary.map { figure($0.messagesPerSecond, count) }),
            ("deliveries/s", summary.map { figure($0.deliveriesPerSecond, count) }),
            ("p50 ms", summary.map { figure($0.latencyP50Micros, millis) }),
            ("p99 ms", summary.map { figure($0.latencyP99Micros, millis) }),
            ("server CPU %", summary.map { $0.serverCpuPercent.map { figure($0, count) } ?? "?" }),
            ("errors", summary.map { "\($0.errors)" }),
        ]
        if summary.contains(where: { $0.rssBytesPerConnection != nil }) {
            rows.append(("RSS/conn. B", summary.map { $0.rssBytesPerConnection.map { figure($0, count) } ?? "-" }))
        }
        if !deliveriesRatiosToPeer.isEmpty {
            rows.append(("ratio to peer", [figure(RunSpread(deliveriesRatiosToPeer)) { String(format: "%.2fx", $0) }]))
        }
        let p99Ratios = roomsRuns.compactMap { $0.misbehaviour?.p99Ratio }
        if !p99Ratios.isEmpty {
            rows.append(("p99 / calm p99", [figure(RunSpread(p99Ratios)) { String(format: "%.2fx", $0) }]))
        }
        let width = rows.map(\.0.count).max() ?? 0
        var text = "\n"
        for (name, values) in rows {
            text += name.padding(toLength: width, withPad: " ", startingAt: 0) + "  "
                + values.map { $0.padding(toLength: 30, withPad: " ", startingAt: 0) }.joined() + "\n"
        }
        return text
    }
}
