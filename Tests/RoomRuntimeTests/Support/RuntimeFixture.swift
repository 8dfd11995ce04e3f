import Foundation
import RoomTesting
import Logging
import NIOCore
@_spi(Node) import RoomRuntime

/// A runtime on a temporary data directory, serving one kind of room (`notes` by default), plus
/// any `extraKinds`.
struct RuntimeFixture {
    let directory: TemporaryDirectory
    let runtime: RoomRuntime
    let kind: String
    private let housekeeping: Task<Void, Never>

    /// `ttl` and `snapshotInterval` configure the main kind (see ``RoomKind``); the runtime looks
    /// for expired rooms at the interval it derives from the shortest TTL.
    init(
        directory: TemporaryDirectory? = nil, idleTimeout: Duration = .seconds(60), maxActiveRooms: Int = 100,
        maxOpenDatabases: Int = 2_000, warmDatabases: Int = 64, warmTimeout: Duration = .seconds(60), logger: Logger = Logger(label: "rooms.runtime"), shards: Int = 2, kind: String = "notes", roomClass: RoomClass = RoomClass(NotesRoom.self),
        ttl: Duration? = nil, snapshotInterval: Duration? = nil, extraKinds: [RoomKind] = []
    ) throws {
        let directory = try directory ?? TemporaryDirectory()
        let main = try RoomKind(name: kind, roomClass: roomClass, ttl: ttl, snapshotInterval: snapshotInterval)
        var configuration = RuntimeConfiguration(dataDirectory: directory.url, kinds: [main] + extraKinds)
        configuration.idleTimeout = idleTimeout
        configuration.maxActiveRooms = maxActiveRooms
        configuration.maxOpenDatabases = maxOpenDatabases
        configuration.warmDatabases = warmDatabases
        configuration.warmTimeout = warmTimeout
        configuration.shardCount = shards
        let runtime = try RoomRuntime(configuration: configuration, logger: logger)
        self.directory = directory
        self.runtime = runtime
        self.kind = kind
        housekeeping = Task { await runtime.run() }
    }

    func address(_ id: String) throws -> RoomAddress {
        try runtime.address(kind: kind, id: id)
    }

    /// Connects a recording client to room `id`.
    func connect(_ id: String, user: String = "ann") throws -> (ConnectionHandle, RecordingTransport) {
        let transport = RecordingTransport()
        let handle = try runtime.connect(to: address(id), user: user, transport: transport)
        return (handle, transport)
    }

    /// Sends a request to room `id` and returns the response body as text.
    func request(
        _ id: String, _ method: String = "GET", _ path: [String], query: [String: String] = [:], body: String = ""
    ) async throws -> String {
        let request = RoomRequest(method: method, path: path, query: query, body: ByteBuffer(string: body))
        let response = try await runtime.request(request, to: address(id))
        return String(buffer: response.body)
    }

    /// Stops the runtime (keeping the directory).
    func stop() async {
        housekeeping.cancel()
        await housekeeping.value
    }
}
