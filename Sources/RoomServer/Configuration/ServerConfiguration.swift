public import Foundation
@_spi(Node) public import RoomRuntime
public import Logging

/// Everything `rooms serve` reads from its configuration file (see docs/CONFIGURATION.md).
///
/// ```json
/// {
///   "server": {"host": "127.0.0.1", "port": 8080},
///   "storage": {"directory": "./data"},
///   "runtime": {"idleTimeoutSeconds": 30},
///   "auth": {"mode": "none"},
///   "kinds": {"chat": {"class": "chat"}}
/// }
/// ```
public struct ServerConfiguration: Sendable {
    /// How clients authenticate (see ``AuthConfiguration/Mode``).
    public typealias AuthMode = AuthConfiguration.Mode

    /// The address to listen on (default `127.0.0.1`).
    public var host = "127.0.0.1"
    /// The TCP port (default 8080; 0 picks a free one).
    public var port = 8080
    /// The largest WebSocket message a client may send, in bytes; a larger one closes the
    /// connection with 1009 (default 65536).
    public var maxFrameBytes = 65_536
    /// The most frames queued for one WebSocket; a client that falls this far behind is closed
    /// with 1013 (default 4096).
    public var maxQueuedFrames = 4_096
    /// The most long polls (`GET .../messages?wait=`) waiting at once on the node; beyond, `503
    /// too_many_waiters` (default 10,000).
    public var maxWaitingPolls = 10_000
    /// How often a quiet Server-Sent Events stream sends a `: keep-alive` comment (default 15 s).
    public var eventStreamKeepAlive: Duration = .seconds(15)
    /// The heart-beat a STOMP connection's `CONNECTED` offers, each way (default 10 s; zero offers
    /// none).
    public var stompHeartBeat: Duration = .seconds(10)
    /// The largest HTTP request body, in bytes; a larger one is refused with 413 (default 1 MiB).
    public var maxBodyBytes = 1 << 20
    /// How long a graceful shutdown may take before connections are cut (default 10 s).
    public var shutdownTimeout: Duration = .seconds(10)
    /// How long a client has to send a complete HTTP request head, from the connection's start or
    /// from the first bytes of its next request; then it gets `408 request_timeout` and the
    /// connection is closed (default 10 s).
    public var requestHeaderTimeout: Duration = .seconds(10)
    /// How long an HTTP connection may wait for its next request, or for more of a request body,
    /// before it is closed (default 60 s). WebSockets are not concerned: they have their pings.
    public var httpIdleTimeout: Duration = .seconds(60)
    /// Authentication: the `auth` section.
    public var auth = AuthConfiguration()
    /// The authentication mode (`auth.mode`).
    public var authMode: AuthMode {
        get { auth.mode }
        set { auth.mode = newValue }
    }
    /// The web origins allowed to use the server from a browser (`server.allowedOrigins`), such
    /// as `https://chat.example.com`; `"*"` allows any. Nil (the default) allows any origin
    /// while `auth.mode` is `none`, and only the server's own in jwt mode.
    public var allowedOrigins: [String]?
    /// Whether `rooms serve` serves the web app at `/` (`server.webApp`, default true).
    public var webApp = true
    /// Offline push: the `push` section; nil (the default) pushes nothing.
    public var push: PushConfiguration?
    /// The `cluster` section (docs/CLUSTER.md); nil for a node that runs alone.
    public var cluster: ClusterSettings?
    /// The log level (default `info`).
    public var logLevel = Logger.Level.info
    /// The runtime's configuration: storage, shards, hibernation, kinds.
    public var runtime: RuntimeConfiguration

    public init(runtime: RuntimeConfiguration) {
        self.runtime = runtime
    }

    /// The embedded defaults: 127.0.0.1:8080, `./data`, the `chat` kind.
    public static func defaults(classes: RoomClassRegistry) throws -> ServerConfiguration {
        try parse(Data(#"{"kinds": {"chat": {"class": "chat"}}}"#.utf8), classes: classes)
    }

    /// Reads the configuration file at `path`.
    ///
    /// - Throws: ``ConfigurationError`` naming the file and the offending key.
    public static func load(path: String, classes: RoomClassRegistry) throws -> ServerConfiguration {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw ConfigurationError("\(path): cannot read the file (\(error.localizedDescription))")
        }
        do {
            return try parse(data, classes: classes)
        } catch let error as ConfigurationError {
            guard let key = error.keyPath else { throw ConfigurationError("\(path): \(error.reason)") }
            throw ConfigurationError(key: key, "\(error.reason) (in \(path))")
        }
    }

    /// Parses a configuration document.
    public static func parse(_ data: Data, classes: RoomClassRegistry) throws -> ServerConfiguration {
        let document: JSONValue
        do {
            document = try JSONDecoder().decode(JSONValue.self, from: data)
        } catch {
            throw ConfigurationError("not valid JSON (\(error))")
        }
        var root = try ConfigurationReader(document, path: "")

        var server = try root.object("server")
        var storage = try root.object("storage")
        var runtimeSection = try root.object("runtime")
        var auth = try root.object("auth")
        var log = try root.object("log")

        var kinds: [RoomKind] = []
        let kindMembers = try root.members("kinds")
        guard !kindMembers.isEmpty else { throw ConfigurationError(key: "kinds", "configure at least one kind") }
        for (name, value) in kindMembers.sorted(by: { $0.key < $1.key }) {
            if name == InboxRoutes.kind {
                throw ConfigurationError(
                    key: "kinds.\(name)", "the kind name '\(name)' is reserved for users' inboxes (GET /inbox)")
            }
            guard case .object(var options) = value else {
                throw ConfigurationError(key: "kinds.\(name)", "must be an object such as {\"class\": \"chat\"}")
            }
            let ttl = try Self.seconds(options.removeValue(forKey: "ttlSeconds"), key: "kinds.\(name).ttlSeconds")
            let snapshotInterval = try Self.seconds(
                options.removeValue(forKey: "snapshotIntervalSeconds"), key: "kinds.\(name).snapshotIntervalSeconds")
            var access = RoomAccess.open
            if let value = options.removeValue(forKey: "access"), value != .null {
                guard let text = value.stringValue, let parsed = RoomAccess(rawValue: text) else {
                    throw ConfigurationError(
                        key: "kinds.\(name).access", "must be one of \"open\", \"members\", \"direct\"")
                }
                access = parsed
            }
            guard case .string(let className)? = options.removeValue(forKey: "class") else {
                throw ConfigurationError(key: "kinds.\(name).class", "required, a string naming a room class")
            }
            guard let roomClass = classes.roomClass(named: className) else {
                throw ConfigurationError(
                    key: "kinds.\(name).class",
                    "unknown class '\(className)'; known: \(classes.names.joined(separator: ", "))")
            }
            kinds.append(
                try RoomKind(
                    name: name, roomClass: roomClass, options: options, ttl: ttl, snapshotInterval: snapshotInterval,
                    access: access))
        }

        if let inbox = try InboxRoutes.kind(in: classes) { kinds.append(inbox) }

        let directory = try storage.string("directory") ?? "./data"
        var runtime = RuntimeConfiguration(dataDirectory: URL(fileURLWithPath: directory), kinds: kinds)
        var configuration = ServerConfiguration(runtime: runtime)

        configuration.host = try server.string("host") ?? configuration.host
        configuration.port = try server.integer("port", in: 0...65_535) ?? configuration.port
        configuration.maxFrameBytes =
            try server.integer("maxFrameBytes", in: 1_024...(64 << 20)) ?? configuration.maxFrameBytes
        configuration.maxBodyBytes = try server.integer("maxBodyBytes", in: 1_024...(64 << 20)) ?? configuration.maxBodyBytes
        configuration.maxQueuedFrames =
            try server.integer("maxQueuedFrames", in: 16...1_000_000) ?? configuration.maxQueuedFrames
        configuration.maxWaitingPolls =
            try server.integer("maxWaitingPolls", in: 1...1_000_000) ?? configuration.maxWaitingPolls
        if let seconds = try server.number("sseKeepAliveSeconds", in: 0.1...3_600) {
            configuration.eventStreamKeepAlive = .milliseconds(Int64(seconds * 1000))
        }
        if let seconds = try server.number("stompHeartBeatSeconds", in: 0...3_600) {
            configuration.stompHeartBeat = .milliseconds(Int64(seconds * 1000))
        }
        if let seconds = try server.number("shutdownTimeoutSeconds", in: 0.1...3_600) {
            configuration.shutdownTimeout = .milliseconds(Int64(seconds * 1000))
        }
        if let seconds = try server.number("requestHeaderTimeoutSeconds", in: 0.1...3_600) {
            configuration.requestHeaderTimeout = .milliseconds(Int64(seconds * 1000))
        }
        if let seconds = try server.number("httpIdleTimeoutSeconds", in: 0.1...86_400) {
            configuration.httpIdleTimeout = .milliseconds(Int64(seconds * 1000))
        }
        configuration.webApp = try server.boolean("webApp") ?? configuration.webApp
        configuration.allowedOrigins = try server.strings("allowedOrigins")
        if let origins = configuration.allowedOrigins,
            let bad = origins.first(where: { $0 != "*" && !Self.isOrigin($0) })
        {
            throw ConfigurationError(
                key: "server.allowedOrigins", "'\(bad)' is not an origin such as \"https://chat.example.com\" (or \"*\")")
        }
        try server.finish()

        runtime.synchronous = try storage.choice("synchronous", of: SynchronousMode.self) ?? runtime.synchronous
        runtime.maxOpenDatabases = try storage.integer("maxOpenDatabases", in: 1...1_000_000) ?? runtime.maxOpenDatabases
        runtime.warmDatabases = try storage.integer("warmDatabases", in: 0...1_000_000) ?? runtime.warmDatabases
        runtime.roomCacheKiB = try storage.integer("roomCacheKiB", in: 16...1_048_576) ?? runtime.roomCacheKiB
        if let seconds = try storage.number("warmSeconds", in: 0.001...86_400) {
            runtime.warmTimeout = .milliseconds(Int64(seconds * 1000))
        }
        try storage.finish()

        if let shards = try runtimeSection.integer("shards", in: 0...1_024), shards > 0 {
            runtime.shardCount = shards
        }
        if let seconds = try runtimeSection.number("idleTimeoutSeconds", in: 0.001...86_400 * 365) {
            runtime.idleTimeout = .milliseconds(Int64(seconds * 1000))
        }
        runtime.maxActiveRooms = try runtimeSection.integer("maxActiveRooms", in: 1...10_000_000) ?? runtime.maxActiveRooms
        runtime.groupCommitLimit = try runtimeSection.integer("groupCommitLimit", in: 1...100_000) ?? runtime.groupCommitLimit
        runtime.maxQueuedEvents = try runtimeSection.integer("maxQueuedEvents", in: 1...10_000_000) ?? runtime.maxQueuedEvents
        runtime.maxFramesInFlight =
            try runtimeSection.integer("maxFramesInFlight", in: 1...1_000_000) ?? runtime.maxFramesInFlight
        try runtimeSection.finish()

        configuration.auth.mode = try auth.choice("mode", of: AuthMode.self) ?? .none
        configuration.auth.secretEnv = try auth.string("secretEnv")
        configuration.auth.jwksFile = try auth.string("jwksFile")
        configuration.auth.issuer = try auth.string("issuer")
        configuration.auth.audience = try auth.string("audience")
        if let seconds = try auth.number("leewaySeconds", in: 0...300) {
            configuration.auth.leeway = .milliseconds(Int64(seconds * 1000))
        }
        try auth.finish()
        if configuration.auth.mode == .jwt, configuration.auth.secretEnv == nil, configuration.auth.jwksFile == nil {
            throw ConfigurationError(key: "auth", "jwt mode needs \"secretEnv\" or \"jwksFile\" (or both)")
        }
        if let variable = configuration.auth.secretEnv,
            variable.isEmpty || variable.contains(where: { !($0.isLetter || $0.isNumber || $0 == "_") })
        {
            throw ConfigurationError(key: "auth.secretEnv", "must name an environment variable (letters, digits, _), not hold the secret")
        }

        configuration.push = try Self.push(try root.members("push"))
        configuration.cluster = try Self.cluster(try root.members("cluster"))
        runtime.nodeID = configuration.cluster?.nodeID

        if let level = try log.string("level") {
            guard let parsed = Logger.Level(rawValue: level) else {
                let names = Logger.Level.allCases.map { "\"\($0.rawValue)\"" }.joined(separator: ", ")
                throw ConfigurationError(key: "log.level", "must be one of \(names)")
            }
            configuration.logLevel = parsed
        }
        try log.finish()
        try root.finish()

        configuration.runtime = runtime
        try configuration.runtime.validate()
        return configuration
    }

    /// The `push` section, checked: nil when absent.
    private static func push(_ members: [String: JSONValue]) throws -> PushConfiguration? {
        guard !members.isEmpty else { return nil }
        var section = try ConfigurationReader(.object(members), path: "push")
        guard let text = try section.string("url") else {
            throw ConfigurationError(key: "push.url", "required: the webhook's http or https URL")
        }
        guard let url = URL(string: text), let scheme = url.scheme?.lowercased(), ["http", "https"].contains(scheme),
            url.host?.isEmpty == false
        else {
            throw ConfigurationError(key: "push.url", "'\(text)' is not an http or https URL")
        }
        guard let variable = try section.string("secretEnv") else {
            throw ConfigurationError(key: "push.secretEnv", "required: the environment variable holding the signing secret")
        }
        guard !variable.isEmpty, variable.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }) else {
            throw ConfigurationError(key: "push.secretEnv", "must name an environment variable (letters, digits, _), not hold the secret")
        }
        var push = PushConfiguration(url: url, secretEnv: variable)
        if let seconds = try section.number("delaySeconds", in: 0...86_400) {
            push.delay = .milliseconds(Int64(seconds * 1000))
        }
        if let seconds = try section.number("timeoutSeconds", in: 0.1...300) {
            push.timeout = .milliseconds(Int64(seconds * 1000))
        }
        try section.finish()
        return push
    }

    /// The `cluster` section, checked: nil when absent.
    private static func cluster(_ members: [String: JSONValue]) throws -> ClusterSettings? {
        guard !members.isEmpty else { return nil }
        var section = try ConfigurationReader(.object(members), path: "cluster")
        guard let variable = try section.string("postgresURLEnv") else {
            throw ConfigurationError(
                key: "cluster.postgresURLEnv", "required: the environment variable holding the PostgreSQL URL")
        }
        guard !variable.isEmpty, variable.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }) else {
            throw ConfigurationError(
                key: "cluster.postgresURLEnv", "must name an environment variable (letters, digits, _), not hold the URL")
        }
        guard let nodeID = try section.string("nodeID") else {
            throw ConfigurationError(key: "cluster.nodeID", "required: this node's ID, stable across restarts")
        }
        guard RuntimeConfiguration.isValidNodeID(nodeID) else {
            throw ConfigurationError(key: "cluster.nodeID", "must be 1 to 64 letters, digits, '-', '_' or '.'")
        }
        guard let text = try section.string("advertise") else {
            throw ConfigurationError(
                key: "cluster.advertise", "required: the http or https URL other nodes and clients reach this node at")
        }
        guard let url = URL(string: text), let scheme = url.scheme?.lowercased(), ["http", "https"].contains(scheme),
            url.host?.isEmpty == false, url.query == nil, url.fragment == nil
        else {
            throw ConfigurationError(key: "cluster.advertise", "'\(text)' is not an http or https URL such as \"http://10.0.0.5:8080\"")
        }
        var cluster = ClusterSettings(postgresURLEnv: variable, nodeID: nodeID, advertise: url)
        // At least 2 s: a lease shorter than PostgreSQL's round trips under load would lapse
        // between renewals.
        if let seconds = try section.number("leaseSeconds", in: 2...600) {
            cluster.lease = .milliseconds(Int64(seconds * 1000))
        }
        try section.finish()
        return cluster
    }

    /// Whether `text` is a web origin: `scheme://host[:port]`, nothing after.
    static func isOrigin(_ text: String) -> Bool {
        guard let url = URL(string: text), let scheme = url.scheme, ["http", "https"].contains(scheme.lowercased()),
            url.host != nil, url.path.isEmpty, url.query == nil, url.fragment == nil
        else { return false }
        return true
    }

    /// A kind-level duration key given in seconds: absent or null for none, else a positive number
    /// up to a century.
    private static func seconds(_ value: JSONValue?, key: String) throws -> Duration? {
        guard let value, value != .null else { return nil }
        guard case .number(let seconds) = value, seconds > 0, seconds <= 86_400 * 36_500 else {
            throw ConfigurationError(key: key, "must be a positive number of seconds")
        }
        return .milliseconds(Int64(seconds * 1000))
    }
}
