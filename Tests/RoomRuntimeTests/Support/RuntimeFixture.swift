import Foundation
import RoomRuntime

/// A runtime on a temporary data directory, serving one kind of room (`notes` by default).
struct RuntimeFixture {
    let directory: TemporaryDirectory
    let runtime: RoomRuntime
    let kind: String
    private let housekeeping: Task<Void, Never>

    init(
        directory: TemporaryDirectory? = nil, idleTimeout: Duration = .seconds(60), maxActiveRooms: Int = 100,
        shards: Int = 2, kind: String = "notes", roomClass: RoomClass = RoomClass(NotesRoom.self)
    ) throws {
        let directory = try directory ?? TemporaryDirectory()
        var configuration = RuntimeConfiguration(
            dataDirectory: directory.url, kinds: [try RoomKind(name: kind, roomClass: roomClass)])
        configuration.idleTimeout = idleTimeout
        configuration.maxActiveRooms = maxActiveRooms
        configuration.shardCount = shards
        let runtime = try RoomRuntime(configuration: configuration)
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

    /// Stops the runtime (keeping the directory).
    func stop() async {
        housekeeping.cancel()
        await housekeeping.value
    }
}
