import Foundation
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
import Synchronization
import WSCore

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
/// let server = try RoomServer(configuration: .defaults(classes: classes))
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

    /// Makes a server and its runtime (starting the shard threads).
    ///
    /// - Parameters:
    ///   - signals: signals that start a graceful shutdown (`rooms serve` passes SIGTERM and SIGINT).
    ///   - onListening: called with the bound port once the server accepts connections.
    public init(
        configuration: ServerConfiguration, logger: Logger = Logger(label: "rooms"), signals: [UnixSignal] = [],
        onListening: @escaping @Sendable (Int) async -> Void = { _ in }
    ) throws {
        self.configuration = configuration
        self.logger = logger
        self.signals = signals
        self.onListening = onListening
        var runtimeLogger = logger
        runtimeLogger[metadataKey: "component"] = "runtime"
        metricsFactory = PrometheusMetricsFactory(registry: metricsRegistry)
        runtime = try RoomRuntime(
            configuration: configuration.runtime, logger: runtimeLogger, metricsFactory: metricsFactory)
        openSockets = CoreMetrics.Gauge(label: "rooms_websockets_open", factory: metricsFactory)
        // Measured once the runtime holds its own descriptors (the node directory).
        connections = ConnectionBudget.fromDescriptorLimit(
            roomFiles: min(configuration.runtime.maxOpenDatabases, configuration.runtime.maxActiveRooms), logger: logger)
    }

    /// Serves until graceful shutdown, then stops everything.
    public func run() async throws {
        var group = ServiceGroupConfiguration(
            services: [
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
            runtime: runtime, maxBodyBytes: configuration.maxBodyBytes,
            isStopping: { [weak self] in self?.isStopping ?? true },
            metrics: { [weak self] in self?.renderMetrics() ?? ByteBuffer() }
        ).register(on: router)
        let configuration = configuration
        let logger = logger
        let onListening = onListening
        return Application(
            router: router,
            server: HTTPServerBuilder { [self] responder in
                RoomsHTTPChannel(
                    responder: responder, maxFrameSize: configuration.maxFrameBytes,
                    autoPing: .enabled(timePeriod: Self.pingInterval), closeTimeout: Self.closeTimeout,
                    requestHeaderTimeout: configuration.requestHeaderTimeout,
                    idleTimeout: configuration.httpIdleTimeout, budget: connections,
                    upgrade: { [self] head in webSocketHandler(for: head) })
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

    /// The handler for a WebSocket upgrade request, or the error that refuses it.
    private func webSocketHandler(for head: HTTPRequestHead) -> Result<
        WebSocketDataHandler<RoomsHTTPChannel.Context>, RoomError
    > {
        let target: WebSocketTarget
        do {
            guard let parsed = try WebSocketTarget.parse(uri: head.uri, runtime: runtime) else {
                return .failure(.notFound(.notFound, "no WebSocket route at \(head.uri)"))
            }
            target = parsed
        } catch {
            return .failure(error)
        }
        guard head.method == .GET else {
            return .failure(RoomError(.methodNotAllowed, .methodNotAllowed, "a WebSocket upgrade is a GET request"))
        }
        guard !isStopping else {
            return .failure(.unavailable(.shuttingDown, "the server is shutting down"))
        }
        let session = WebSocketSession(
            target: target, runtime: runtime, sockets: sockets, maxMessageBytes: configuration.maxFrameBytes,
            maxQueuedFrames: configuration.maxQueuedFrames, closeTimeout: Self.closeTimeout,
            closeDrainTimeout: Self.closeDrainTimeout)
        return .success { inbound, outbound, context in
            try await session.run(
                inbound: inbound, outbound: outbound, channel: context.channel, logger: context.logger)
        }
    }
}
