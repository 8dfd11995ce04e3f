/// What `rooms bench` runs, as given on its command line.
public struct BenchOptions: Sendable, Encodable {
    public var scenario: Scenario
    /// `http://HOST:PORT` of a running server, or nil to spawn one.
    public var url: String?
    /// The PID of the server at `url`, to sample its CPU and memory (spawned servers are known).
    public var serverPID: Int32?
    /// Seconds of measurement, after the warm-up.
    public var duration: Double
    /// Seconds of load before measuring.
    public var warmup: Double
    /// Rooms (`rooms`, `ingest`, `direct`, `activation`, `idle`, `ai`).
    public var rooms: Int
    /// Clients per room (`fanout`: listeners).
    public var clients: Int
    /// Messages per second in total, or `max`.
    public var rate: Rate
    /// Bytes of message text.
    public var size: Int
    /// Raw mode: timestamped text frames to a `relay` room (or a peer), every member receiving
    /// every frame; no chat protocol.
    public var raw: Bool
    /// How `fanout`'s listeners connect: WebSockets, or Server-Sent Events streams.
    public var listeners: Listeners
    /// A peer to measure against in the same run (`node`: Benchmarks/peers/node-ws-broadcast.js).
    public var peer: String?
    /// Threads of the harness's event loop group.
    public var clientThreads: Int
    /// Tokens per second of the local provider (`ai`).
    public var tokensPerSecond: Double
    /// How many times the scenario runs (each against a fresh server when spawning, alternating
    /// with the peer); the report gives every run, and the median and spread.
    public var runs: Int
    /// `--slo-p99`: search for the highest rate whose latency p99 stays within this many
    /// milliseconds (nil: run at `rate`).
    public var sloP99Millis: Double?
    /// `soak`: seconds between two samples of the server.
    public var sampleEverySeconds: Double
    /// `fanout` in a cluster: the node (`http://HOST:PORT`) that should own the room; the room is
    /// read there first, so that a run against another node (`url`) measures forwarded
    /// connections (docs/CLUSTER.md).
    public var placeVia: String?

    public init(
        scenario: Scenario, url: String? = nil, serverPID: Int32? = nil, duration: Double = 10, warmup: Double = 2,
        rooms: Int? = nil, clients: Int? = nil, rate: Rate = .max, size: Int = 64, raw: Bool = false,
        listeners: Listeners = .websocket, peer: String? = nil, clientThreads: Int = 1, tokensPerSecond: Double = 50, runs: Int = 1,
        sloP99Millis: Double? = nil, sampleEverySeconds: Double = 60, placeVia: String? = nil
    ) {
        self.placeVia = placeVia
        self.scenario = scenario
        self.url = url
        self.serverPID = serverPID
        self.duration = duration
        self.warmup = warmup
        self.rooms = rooms ?? Self.defaultRooms(scenario)
        self.clients = clients ?? Self.defaultClients(scenario)
        self.rate = rate
        self.size = size
        self.raw = raw
        self.listeners = listeners
        self.peer = peer
        self.clientThreads = clientThreads
        self.tokensPerSecond = tokensPerSecond
        self.runs = runs
        self.sloP99Millis = sloP99Millis
        self.sampleEverySeconds = sampleEverySeconds
    }

    static func defaultRooms(_ scenario: Scenario) -> Int {
        switch scenario {
        case .fanout, .ingest, .slow: 1
        case .direct: 32
        case .soak: 50
        case .rooms: 1_000
        case .activation: 10_000
        case .idle: 1_000
        case .ai: 100
        case .doc: 1
        }
    }

    static func defaultClients(_ scenario: Scenario) -> Int {
        switch scenario {
        case .fanout, .slow: 1_000
        case .rooms: 5
        case .ingest, .direct: 1
        case .activation: 0
        case .idle: 10_000
        case .ai: 5
        case .soak: 4
        case .doc: 20
        }
    }
}

/// How the listeners of `rooms bench fanout` connect (`--listeners`).
public enum Listeners: String, Sendable, Encodable, CaseIterable {
    /// `GET /rooms/chat/{id}/ws`.
    case websocket
    /// `GET /rooms/chat/{id}/events`, one Server-Sent Events stream each.
    case sse
    /// `GET /stomp`, each socket subscribed to the room's topic.
    case stomp
}
