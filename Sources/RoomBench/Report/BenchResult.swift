import Foundation

/// One scenario's figures against one server, as `--json` writes them.
public struct BenchResult: Encodable, Sendable {
    public var scenario: Scenario
    /// The scenario's parameters.
    public var config: BenchOptions
    /// The server measured (`rooms`, `node-ws`, or the URL given).
    public var target: String
    /// Messages acknowledged per second (after commit, in chat mode); for `activation`,
    /// activations per second; for `ai`, answers completed per second.
    public var messagesPerSecond: Double
    /// Messages (or frames, or AI deltas) delivered to clients per second.
    public var deliveriesPerSecond: Double
    /// From a message's send to its delivery (for `activation`: the waking request's round trip;
    /// for `ai`: from the provider producing a token to a client receiving it).
    public var latencyMicros: LatencySummary
    /// The server's CPU use during the measurement, in percent of one core (nil if unknown).
    public var serverCpuPercent: Double?
    /// The server's peak resident memory, in bytes (nil if unknown).
    public var serverRssBytes: Int?
    /// Error frames, failed requests and unexpected closes during the measurement.
    public var errors: Int
    /// Seconds measured.
    public var seconds: Double
    /// `idle`: the server's resident memory per idle connection, in bytes.
    public var rssBytesPerConnection: Double?
    /// Anything else worth saying.
    public var notes: [String]
    /// The warm-up, measured on its own (scenarios under steady load).
    public var warmup: WarmupSummary?
    /// The harness's own CPU use during the measurement, in percent of one core.
    public var clientCpuPercent: Double?
    /// `slow`: the calm window and the misbehaving clients.
    public var misbehaviour: MisbehaviourSummary?
    /// `soak`: the samples, and how much the server's resources grew.
    public var soak: SoakSummary?

    public init(
        scenario: Scenario, config: BenchOptions, target: String, messagesPerSecond: Double,
        deliveriesPerSecond: Double, latencyMicros: LatencySummary, serverCpuPercent: Double?, serverRssBytes: Int?,
        errors: Int, seconds: Double, rssBytesPerConnection: Double? = nil, notes: [String] = []
    ) {
        self.scenario = scenario
        self.config = config
        self.target = target
        self.messagesPerSecond = messagesPerSecond
        self.deliveriesPerSecond = deliveriesPerSecond
        self.latencyMicros = latencyMicros
        self.serverCpuPercent = serverCpuPercent
        self.serverRssBytes = serverRssBytes
        self.errors = errors
        self.seconds = seconds
        self.rssBytesPerConnection = rssBytesPerConnection
        self.notes = notes
    }
}
