/// The runs against one target (`rooms` or the peer), summarised: median and spread of each
/// figure.
public struct TargetSummary: Encodable, Sendable {
    public let target: String
    public let runs: Int
    public let messagesPerSecond: RunSpread
    public let deliveriesPerSecond: RunSpread
    public let latencyP50Micros: RunSpread
    public let latencyP99Micros: RunSpread
    public let serverCpuPercent: RunSpread?
    /// Server RSS per connection (the `idle` scenario).
    public let rssBytesPerConnection: RunSpread?
    public let errors: Int

    init(_ results: [BenchResult]) {
        target = results[0].target
        runs = results.count
        messagesPerSecond = RunSpread(results.map(\.messagesPerSecond))
        deliveriesPerSecond = RunSpread(results.map(\.deliveriesPerSecond))
        latencyP50Micros = RunSpread(results.map { Double($0.latencyMicros.p50) })
        latencyP99Micros = RunSpread(results.map { Double($0.latencyMicros.p99) })
        let cpu = results.compactMap(\.serverCpuPercent)
        serverCpuPercent = cpu.count == results.count ? RunSpread(cpu) : nil
        let perConnection = results.compactMap(\.rssBytesPerConnection)
        rssBytesPerConnection = perConnection.count == results.count ? RunSpread(perConnection) : nil
        errors = results.reduce(0) { $0 + $1.errors }
    }
}
