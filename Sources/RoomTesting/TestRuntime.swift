import NIOCore
public import Foundation
public import Logging
@_spi(Node) public import RoomRuntime

/// A DurableRooms runtime on a temporary data directory, for testing room classes the way the
/// project tests itself: real SQLite files, real turns and commits, real hibernation, schedules
/// and restarts; no sockets (``TestConnection`` stands in for a WebSocket).
///
/// ```swift
/// @Test func countsAcrossRestarts() async throws {
///     var rooms = try TestRuntime(HitsRoom.self)
///     let ann = try rooms.connect("c1", user: "ann")
///     await ann.send("one")
///     try await ann.waitFor(ofType: "count")
///     rooms = try await rooms.restart()           // a new node on the same files
///     #expect(try rooms.info("c1").lastSeq == 1)
///     await rooms.stopAndRemove()
/// }
/// ```
public final class TestRuntime: Sendable {
    /// The data directory (removed by ``stopAndRemove()``).
    public let dataDirectory: URL
    /// The kind that ``connect(_:kind:user:parameters:)`` and ``request(_:kind:_:_:query:body:)``
    /// use when none is given.
    public let defaultKind: String
    /// The runtime under test.
    @_spi(Node) public let runtime: RoomRuntime
    private let configuration: RuntimeConfiguration
    private let housekeeping: Task<Void, Never>

    /// A runtime serving `kinds` (the first is the default kind), on `dataDirectory` or a fresh
    /// temporary directory. `configure` adjusts the configuration (idle timeout, caps, ...).
    public convenience init(
        kinds: [RoomKind], dataDirectory: URL? = nil, logger: Logger = TestRuntime.quietLogger,
        configure: (inout RuntimeConfiguration) -> Void = { _ in }
    ) throws {
        precondition(!kinds.isEmpty, "a test runtime serves at least one kind")
        let directory =
            dataDirectory
            ?? FileManager.default.temporaryDirectory.appendingPathComponent("rooms-test-\(UUID().uuidString)")
        var configuration = RuntimeConfiguration(dataDirectory: directory, kinds: kinds)
        configuration.shardCount = 2
        configure(&configuration)
        try self.init(configuration: configuration, defaultKind: kinds[0].name, logger: logger)
    }

    /// A runtime serving one kind, `kind` (default: the class's name), of room class `type` with
    /// `options`.
    public convenience init<R: Room>(
        _ type: R.Type, kind: String = R.className, options: [String: JSONValue] = [:], dataDirectory: URL? = nil,
        logger: Logger = TestRuntime.quietLogger, configure: (inout RuntimeConfiguration) -> Void = { _ in }
    ) throws {
        try self.init(
            kinds: [try RoomKind(name: kind, roomClass: RoomClass(type), options: options)],
            dataDirectory: dataDirectory, logger: logger, configure: configure)
    }

    private init(configuration: RuntimeConfiguration, defaultKind: String, logger: Logger) throws {
        let runtime = try RoomRuntime(configuration: configuration, logger: logger)
        self.runtime = runtime
        self.configuration = configuration
        self.dataDirectory = configuration.dataDirectory
        self.defaultKind = defaultKind
        housekeeping = Task { await runtime.run() }
    }

    /// A logger that drops everything but errors.
    public static let quietLogger: Logger = {
        var logger = Logger(label: "rooms.test")
        logger.logLevel = .error
        return logger
    }()

    /// The address of room `id` of `kind` (default: ``defaultKind``).
    public func address(_ id: String, kind: String? = nil) throws -> RoomAddress {
        try runtime.address(kind: kind ?? defaultKind, id: id)
    }

    /// Connects a client as `user` to room `id`; the room activates (and is created) as for a
    /// WebSocket.
    public func connect(_ id: String, kind: String? = nil, user: String = "ann", parameters: [String: String] = [:])
        throws -> TestConnection
    {
        try connect(id, kind: kind, identity: .named(user), parameters: parameters)
    }

    /// Connects a client with `identity` (a verified user with claims, say) to room `id`.
    public func connect(
        _ id: String, kind: String? = nil, identity: Identity, parameters: [String: String] = [:]
    ) throws -> TestConnection {
        let transport = RecordingTransport()
        let handle = try runtime.connect(
            to: address(id, kind: kind), identity: identity, parameters: parameters, transport: transport)
        return TestConnection(user: identity.user, transport: transport, handle: handle)
    }

    /// Sends an HTTP-style request to room `id` (as `METHOD /rooms/{kind}/{id}/{path...}` would)
    /// and returns the room's response, once committed.
    ///
    /// - Throws: the ``RoomError`` the room answered with.
    public func request(
        _ id: String, kind: String? = nil, _ method: String = "GET", _ path: [String] = [],
        query: [String: String] = [:], body: String = "", identity: Identity? = nil
    ) async throws -> RoomResponse {
        try await runtime.request(
            RoomRequest(method: method, path: path, query: query, body: ByteBuffer(string: body), identity: identity),
            to: address(id, kind: kind))
    }

    /// What the node knows of room `id`, without waking it.
    public func info(_ id: String, kind: String? = nil) throws -> RoomInfo {
        try runtime.info(for: address(id, kind: kind))
    }

    /// Sends room `id` to hibernation, as its idle timeout would, and returns once it has left
    /// memory (its hibernate hook ran, its file is closed; its connections stay open).
    public func hibernate(_ id: String, kind: String? = nil, timeout: Duration = .seconds(10)) async throws {
        let address = try address(id, kind: kind)
        try await eventually("room \(address) hibernated", timeout: timeout) {
            guard try runtime.info(for: address).active else { return true }
            runtime.requestHibernation(of: address)
            return false
        }
    }

    /// Stops this runtime (gracefully: rooms snapshot and hibernate) and starts a new one on the
    /// same directory, as a restarted node would.
    public func restart(logger: Logger = TestRuntime.quietLogger) async throws -> TestRuntime {
        await stop()
        return try TestRuntime(configuration: configuration, defaultKind: defaultKind, logger: logger)
    }

    /// Every regular file under the data directory, relative to it.
    public func files() -> [String] {
        let base = dataDirectory.standardizedFileURL.path
        guard let enumerator = FileManager.default.enumerator(at: dataDirectory, includingPropertiesForKeys: nil) else {
            return []
        }
        return enumerator.compactMap { $0 as? URL }
            .filter { (try? $0.resourceValues(forKeys: [.isRegularFileKey]))?.isRegularFile == true }
            .map { String($0.standardizedFileURL.path.dropFirst(base.count + 1)) }
            .sorted()
    }

    /// Stops the runtime gracefully, keeping its files.
    public func stop() async {
        housekeeping.cancel()
        await housekeeping.value
        await runtime.shutdown()
    }

    /// Stops the runtime and deletes its data directory.
    public func stopAndRemove() async {
        await stop()
        try? FileManager.default.removeItem(at: dataDirectory)
    }
}
