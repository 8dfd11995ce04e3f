import Foundation
import RoomRuntime

/// A runtime on a temporary data directory, serving `notes` rooms.
struct RuntimeFixture {
    let directory: TemporaryDirectory
    let runtime: RoomRuntime
    private let housekeeping: Task<Void, Never>

    init(
        directory: TemporaryDirectory? = nil, idleTimeout: Duration = .seconds(60), maxActiveRooms: Int = 100,
        shards: Int = 2
    ) throws {
        let directory = try directory ?? TemporaryDirectory()
        var classes = RoomClassRegistry()
        classes.register(NotesRoom.self)
        var configuration = RuntimeConfiguration(
            dataDirectory: directory.url,
            kinds: [try RoomKind(name: "notes", roomClass: classes.roomClass(named: "notes")!)])
        configuration.idleTimeout = idleTimeout
        configuration.maxActiveRooms = maxActiveRooms
        configuration.shardCount = shards
        let runtime = try RoomRuntime(configuration: configuration)
        self.directory = directory
        self.runtime = runtime
        housekeeping = Task { await runtime.run() }
    }

    func address(_ id: String) throws -> RoomAddress {
        try runtime.address(kind: "notes", id: id)
    }

    /// Connects a recording client to room `id`.
    func connect(_ id: String, user: String = "ann") throws -> (ConnectionHandle, RecordingTransport) {
        let transport = RecordingTransport()
        let handle = try runtime.connect(to: address(id), user: user, transport: transport)
        return (handle, transport)
    }

    /// Stops the runtime (keeping the directory).
    func stop() async {
        housekeeping.cancel()
        await housekeeping.value
    }
}
