public import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdCore
public import Logging
import NIOCore
import NIOHTTP1
import Prometheus
import CoreMetrics
@_spi(Node) public import RoomRuntime
public import ServiceLifecycle
public import UnixSignals
import RoomCluster
import Synchronization
import WebApp

/// A DurableRooms node: the room runtime behind an HTTP and WebSocket server.
///
/// Run it as a service (``run()``); it stops gracefully when its service group, or a signal it
/// was told to handle, asks: it refuses new connections, frames and requests, lets rooms finish
/// the turns already queued and sends their answers, hibernates the rooms (snapshots, hooks,
/// every file committed and closed), then closes every WebSocket with 1001 and returns.
///
/// ```swift
/// var classes = RoomClassRegistry()
/// classes.register(ChatRoom.self)
/// let server = try await RoomServer(configuration: .defaults(classes: classes))
/// try await server.run()
/// ```
public final class RoomServer: Service {
    /// The configuration the server runs with.
    public let configuration: ServerConfiguration
    /// The room runtime.
    @_spi(Node) public let runtime: RoomRuntime
    /// The server's logger.
    public let logger: Logger

    let sockets = SocketRegistry()
    /// The node's long polls (`GET .../messages?wait=`).
    let longPolls: LongPolls

    /// The number of long polls waiting now.
    public var longPollsWaiting: Int { longPolls.count }
    /// What every WebSocket shares (see ``WebSocketHandler``).
    private let socketSettings: SocketSettings
    /// Who may reach what: authentication, the token's rooms, admin routes, origins.
    let gatekeeper: Gatekeeper
    /// The node's open connections and how many the descriptor limit lets it take.
    let connections: ConnectionBudget
    /// Where the server's and the runtime's metrics are collected (see `/metrics`).
    let metricsRegistry = PrometheusCollectorRegistry()
    private let metricsFactory: PrometheusMetricsFactory
    private let openSockets: CoreMetrics.Gauge
    /// How long the server waits for a client to answer its close frame.
    static let closeTimeout = Duration.seconds(3)
    /// How often the server pings each WebSocket; a client that has not answered by the next ping
    /// is closed with 1001.
    static let pingInterval = Duration.seconds(30)
    /// How long a close frame may wait behind frames a client has not read (a client dropped for
    /// reading too slowly finds its 1013 close after them if it reads again within this time). As
    /// long as a ping interval: a client that reads nothing for that long is gone anyway.
    static let closeDrainTimeout = pingInterval
    private let stopping = Atomic<Bool>(false)
    /// Whether the server has started listening.
    private let listening = Atomic<Bool>(false)
    private let signals: [UnixSignal]
    private let onListening: @Sendable (Int) async -> Void
    /// This node's membership of a cluster (`cluster` section), nil for a node that runs alone.
    let cluster: ClusterMembership?
    /// In a cluster, this node's links to the others (forwarding), nil for a node that runs alone.
    let links: NodeLinks?
    /// The settings of links from other nodes: a link carries many clients' frames, so its queue
    /// is far longer than a client's.
    let linkSocketSettings: SocketSettings

    /// What `rooms serve` does when the node loses its cluster lease: exits at once with status 75
    /// (EX_TEMPFAIL), so that it serves none of its rooms once another node may own them; its
    /// supervisor starts it again, and it joins anew. Everything acknowledged was committed.
    public static let exitOnLeaseLost: @Sendable () -> Void = { exit(75) }

    /// Makes a server and its runtime (starting the shard threads), with its keys loaded.
    ///
    /// - Parameters:
    ///   - signals: signals that start a graceful shutdown (`rooms serve` passes SIGTERM and SIGINT).
    ///   - environment: where `auth.secretEnv` and `push.secretEnv` are read (the process's
    ///     environment).
    ///   - onListening: called with the bound port once the server accepts connections.
    ///   - onLeaseLost: in a cluster, called when the node lost its lease (see ``exitOnLeaseLost``).
    /// - Throws: ``ConfigurationError`` when the keys of `auth` or the push secret cannot be loaded; ``NodeLockError``
    ///   when another node holds the data directory.
    public init(
        configuration: ServerConfiguration, logger: Logger = Logger(label: "rooms"), signals: [UnixSignal] = [],
        environment: [String: String] = ProcessInfo.processInfo.environment,
        onListening: @escaping @Sendable (Int) async -> Void = { _ in },
        onLeaseLost: @escaping @Sendable () -> Void = RoomServer.exitOnLeaseLost
    ) async throws {
        let auth = configuration.auth
        let verifier = auth.mode == .jwt ? try await TokenVerifier(configuration: auth, environment: environment) : nil
        gatekeeper = Gatekeeper(
            mode: auth.mode, verifier: verifier,
            origins: OriginPolicy(
                allowed: configuration.allowedOrigins.map { Set($0.map { $0.lowercased() }) },
                requiresAuthentication: auth.mode == .jwt))
        if auth.mode == .none, !Self.isLoopback(configuration.host) {
            logger.warning(
                "auth.mode is \"none\" on a non-loopback address: anyone who reaches \(configuration.host) may act as any user; set auth.mode to \"jwt\" before going on the internet")
        }
        self.configuration = configuration
        self.logger = logger
        self.signals = signals
        self.onListening = onListening
        var runtimeLogger = logger
        runtimeLogger[metadataKey: "component"] = "runtime"
        metricsFactory = PrometheusMetricsFactory(registry: metricsRegistry)
        var runtimeConfiguration = configuration.runtime
        runtimeConfiguration.maxOpenDatabases = ConnectionBudget.fittedOpenDatabases(
            runtimeConfiguration.maxOpenDatabases, logger: logger)
        if let push = configuration.push {
            runtimeConfiguration.services[PushService.self] =
                try PushWebhook(push, environment: environment).service(delay: push.delay)
        }
        if let settings = configuration.cluster {
            let membership = try ClusterMembership(
                settings: settings, environment: environment, logger: logger, leaseLost: { _ in onLeaseLost() })
            runtimeConfiguration.owners = membership.plane
            runtimeConfiguration.directoryMirror = membership.plane
            cluster = membership
            let links = NodeLinks(node: settings.nodeID, maxMessageBytes: configuration.maxFrameBytes, logger: logger)
            runtimeConfiguration.forwarder = links
            self.links = links
        } else {
            cluster = nil
            links = nil
        }
        runtime = try RoomRuntime(
            configuration: runtimeConfiguration, logger: runtimeLogger, metricsFactory: metricsFactory)
        openSockets = CoreMetrics.Gauge(label: "rooms_websockets_open", factory: metricsFactory)
        longPolls = LongPolls(runtime: runtime, limit: configuration.maxWaitingPolls)
        // Measured once the runtime holds its own descriptors (the node directory).
        connections = ConnectionBudget.fromDescriptorLimit(
            roomFiles: min(runtimeConfiguration.maxOpenDatabases, runtimeConfiguration.maxActiveRooms), logger: logger)
        let budget = connections
        cluster?.reportConnections { budget.openConnections }
        let runtime = runtime
        cluster?.wakeOrphanedAlarms { runtime.wakeForAlarm($0) }
        socketSettings = SocketSettings(
            runtime: runtime, gatekeeper: gatekeeper, sockets: sockets, budget: connections,
            maxMessageBytes: configuration.maxFrameBytes, maxQueuedFrames: configuration.maxQueuedFrames,
            closeTimeout: Self.closeTimeout, closeDrainTimeout: Self.closeDrainTimeout,
            stompConnectTimeout: configuration.requestHeaderTimeout, stompHeartBeat: configuration.stompHeartBeat,
            logger: logger)
        linkSocketSettings = SocketSettings(
            runtime: runtime, gatekeeper: gatekeeper, sockets: sockets, budget: connections,
            maxMessageBytes: LinkFrame.maxFrameBytes, maxQueuedFrames: 1_000_000,
            closeTimeout: Self.closeTimeout, closeDrainTimeout: Self.closeDrainTimeout,
            stompConnectTimeout: configuration.requestHeaderTimeout, stompHeartBeat: configuration.stompHeartBeat,
            logger: logger)
    }

    /// Serves until graceful shutdown, then stops everything.
    public func run() async throws {
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = []
        if let cluster {
            // Joined before the server listens; its service stops last (see ClusterMembership).
            do {
                try await cluster.join()
                links?.setSecret(try await cluster.plane.linkSecret())
            } catch {
                cluster.abandon()
                await runtime.shutdown(within: .seconds(1))
                throw error
            }
            services.append(.init(service: cluster))
        }
        var group = ServiceGroupConfiguration(
            services: services + [
                .init(service: SocketHeartbeat(sockets: sockets, interval: Self.pingInterval)),
                .init(service: runtime),
                .init(service: makeApplication()),
                .init(service: ShutdownGate(server: self)),
            ],
            gracefulShutdownSignals: signals,
            cancellationSignals: [],
            logger: logger)
        group.maximumGracefulShutdownDuration = configuration.shutdownTimeout
        group.logging.keys = ServiceGroupConfiguration.LoggingConfiguration.Keys()
        do {
            try await ServiceGroup(configuration: group).run()
        } catch {
            // A socket error before the server listened is a failure to bind: name the address.
            guard !listening.load(ordering: .relaxed),
                let failure = ListenError.from(error, host: configuration.host, port: configuration.port)
            else { throw error }
            throw failure
        }
    }

    /// Whether `host` only listens on the loopback interface.
    static func isLoopback(_ host: String) -> Bool {
        host == "localhost" || host == "::1" || host.hasPrefix("127.")
    }

    /// Whether the server is shutting down.
    public var isStopping: Bool { stopping.load(ordering: .relaxed) }

    func beginShutdown() {
        guard !stopping.exchange(true, ordering: .relaxed) else { return }
        logger.info("shutting down")
        runtime.beginShutdown()
    }

    private func makeApplication() -> some ApplicationProtocol {
        let router = Hummingbird.Router(context: BasicRequestContext.self)
        RoomRoutes(
            runtime: runtime, gatekeeper: gatekeeper, maxBodyBytes: configuration.maxBodyBytes,
            isStopping: { [weak self] in self?.isStopping ?? true },
            metrics: { [weak self] in self?.renderMetrics() ?? ByteBuffer() },
            eventStreams: EventStreamRoute(
                runtime: runtime, connections: sockets, maxQueuedFrames: configuration.maxQueuedFrames,
                keepAlive: configuration.eventStreamKeepAlive),
            longPolls: longPolls,
            cluster: cluster?.plane
        ).register(on: router)
        if configuration.webApp {
            if let directory = WebApp.directory {
                WebAppRoutes(
                    directory: directory, authMode: configuration.authMode,
                    kinds: Array(configuration.runtime.kinds.values)
                ).register(on: router, logger: logger)
            } else {
                logger.warning("the web app's files are missing (DurableRooms_WebApp.resources is not beside the binary): not serving it")
            }
        }
        let configuration = configuration
        let logger = logger
        let onListening = onListening
        return Application(
            router: router,
            server: HTTPServerBuilder { [self] responder in
                RoomsHTTPChannel(
                    // A STOMP frame may carry a body of maxFrameBytes and its headers.
                    responder: responder, maxFrameSize: configuration.maxFrameBytes + StompApplication.headerAllowance,
                    requestHeaderTimeout: configuration.requestHeaderTimeout,
                    idleTimeout: configuration.httpIdleTimeout, budget: connections,
                    upgrade: { [self] head in await webSocketHandler(for: head) })
            },
            configuration: ApplicationConfiguration(
                address: .hostname(configuration.host, port: configuration.port), serverName: nil),
            onServerRunning: { [self] channel in
                listening.store(true, ordering: .relaxed)
                let port = channel.localAddress?.port ?? configuration.port
                logger.info("DurableRooms listening on http://\(configuration.host):\(port)")
                await onListening(port)
            },
            logger: logger)
    }

    /// The metrics in Prometheus text format, gauges sampled now.
    func renderMetrics() -> ByteBuffer {
        runtime.metrics.refresh(from: runtime)
        openSockets.record(connections.openWebSockets)
        return ByteBuffer(bytes: metricsRegistry.emitToBuffer())
    }

    /// The handler for a WebSocket upgrade request, or the error that refuses it: everything a
    /// connection may be refused for is decided here, before the upgrade (and before any room
    /// file is created).
    private func webSocketHandler(for head: HTTPRequestHead) async -> Result<WebSocketSession, RoomError> {
        if URI(head.uri).path == "/stomp" { return stompSession(for: head) }
        if URI(head.uri).path == "/cluster/link" { return linkSession(for: head) }
        var target: WebSocketTarget
        let identity: Identity
        do throws(RoomError) {
            guard let parsed = try WebSocketTarget.parse(uri: head.uri, runtime: runtime) else {
                // The path only: the query may hold a token.
                return .failure(.notFound(.notFound, "no WebSocket route at \(URI(head.uri).path)"))
            }
            target = parsed
            try ResumePoint.validate(target.parameters)
            guard head.method == .GET else {
                return .failure(RoomError(.methodNotAllowed, .methodNotAllowed, "a WebSocket upgrade is a GET request"))
            }
            try gatekeeper.checkOrigins(head.headers["origin"], host: head.headers.first(name: "host"))
            let caller = try await gatekeeper.authenticate(
                authorization: head.headers.first(name: "authorization"), query: target.parameters)
            identity = try RoomRoutes.requireUser(caller)
            target = try target.forCaller(identity)
            try gatekeeper.authorize(caller, for: target.address)
            guard !isStopping else {
                return .failure(.unavailable(.shuttingDown, "the server is shutting down"))
            }
            try await runtime.admit(identity, to: target.address)
        } catch {
            return .failure(error)
        }
        return .success(WebSocketSession(speaks: .room(target, identity), settings: socketSettings))
    }

    /// A link from another node of the cluster at `/cluster/link`: only with the cluster's link
    /// token (``LinkToken``); a node that runs alone has no such route.
    private func linkSession(for head: HTTPRequestHead) -> Result<WebSocketSession, RoomError> {
        guard let links, let token = links.token else {
            return .failure(.notFound(.notFound, "no WebSocket route at /cluster/link"))
        }
        guard head.method == .GET else {
            return .failure(RoomError(.methodNotAllowed, .methodNotAllowed, "a WebSocket upgrade is a GET request"))
        }
        guard let peer = token.verify(head.headers.first(name: "authorization")) else {
            return .failure(.unauthorized(.unauthorized, "a link needs the cluster's link token"))
        }
        guard !isStopping else { return .failure(.unavailable(.shuttingDown, "the server is shutting down")) }
        return .success(WebSocketSession(speaks: .peer(peer, longPolls), settings: linkSocketSettings))
    }

    /// A STOMP connection at `/stomp`: who connects is said in its `CONNECT` frame, after the
    /// upgrade. The subprotocol is the first of `v12.stomp`, `v11.stomp`, `v10.stomp` the client
    /// offers (none when it offers none of them: STOMP's own version negotiation still runs).
    private func stompSession(for head: HTTPRequestHead) -> Result<WebSocketSession, RoomError> {
        guard head.method == .GET else {
            return .failure(RoomError(.methodNotAllowed, .methodNotAllowed, "a WebSocket upgrade is a GET request"))
        }
        do throws(RoomError) {
            try gatekeeper.checkOrigins(head.headers["origin"], host: head.headers.first(name: "host"))
        } catch {
            return .failure(error)
        }
        guard !isStopping else { return .failure(.unavailable(.shuttingDown, "the server is shutting down")) }
        let offered = Set(
            head.headers["sec-websocket-protocol"].flatMap { $0.split(separator: ",") }
                .map { $0.trimmingCharacters(in: .whitespaces).lowercased() })
        return .success(
            WebSocketSession(
                speaks: .stomp, subprotocol: StompVersion.subprotocols.first(where: offered.contains),
                settings: socketSettings))
    }
}
