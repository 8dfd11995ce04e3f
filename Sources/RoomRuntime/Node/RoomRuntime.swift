import Foundation
public import Logging
public import CoreMetrics
public import ServiceLifecycle
import Synchronization

/// One node's room runtime: the shards, the rooms in memory, their storage and the directory.
///
/// The server hands it connections (``connect(to:user:parameters:transport:)``), messages and
/// HTTP requests (``request(_:to:)``); the runtime routes each to its room's mailbox on the room's
/// shard, activating the room from its file first if needed, and hibernates rooms that stay idle.
///
/// Call ``run()`` (it is what a service group runs) to keep the node's housekeeping going: idle
/// rooms hibernate, rooms past their TTL are deleted and the directory is flushed while it runs,
/// and everything is stored and closed when it returns.
///
/// This type is the node's side of the runtime, for servers and tests (`@_spi(Node)`); a room
/// class sees only its ``RoomContext``. Where things live:
///
/// - routing an event to its room: `RoomRuntime+Routing.swift`;
/// - activation, hibernation and quarantine: `Lifecycle/RoomRuntime+Activation.swift`;
/// - deletion and TTL expiry: `Lifecycle/RoomRuntime+Deletion.swift`;
/// - housekeeping and shutdown: `RoomRuntime+Housekeeping.swift`;
/// - creating members and direct rooms, and admitting users to them: `Membership/RoomRuntime+Membership.swift`;
/// - what a live room may ask of the node: ``RoomHost``, `RoomRuntime+RoomHost.swift`.
@_spi(Node)
public final class RoomRuntime: Service {
    /// The configuration the runtime was made with.
    public let configuration: RuntimeConfiguration
    /// The runtime's logger.
    public let logger: Logger
    /// The shards and the placement of rooms on them.
    public let router: Router
    /// Where files live.
    public let layout: StorageLayout
    /// The node directory.
    public let directory: NodeDirectory
    /// The runtime's metrics.
    public let metrics: RuntimeMetrics

    let activeRooms: ActiveRooms
    let alarms = AlarmClock()
    /// Long polls waiting for rooms to store something.
    public let sequenceWatchers = SequenceWatchers()
    let quarantine: Quarantine
    let openDatabases = OpenDatabases()
    /// Open databases of hibernated rooms, for their next activation.
    let warmDatabases: WarmDatabases
    let nodeLock: NodeLock
    /// In a cluster, the lock shared with the other nodes on the data directory (see ``NodeLock``).
    let clusterLock: NodeLock?
    let slots = Mutex<[RoomAddress: RoomSlot]>([:])
    let lifecycle = Mutex(Lifecycle())
    /// Rooms that left memory since the allocator last gave memory back.
    let roomsLeftSinceTrim = Atomic(0)
    /// A batch of directory changes is on its way to the cluster's directory.
    let mirroring = Atomic(false)
    /// In a cluster, a round of TTL expiry is running (it asks PostgreSQL).
    let expiring = Atomic(false)

    /// New events are refused; rooms finish what is queued, then hibernate. (An atomic, not part
    /// of ``Lifecycle``: every event reads it.)
    let stopping = Atomic(false)
    /// The shutdown stopped waiting for rooms: what is still queued is refused. (Read per event.)
    let abandoning = Atomic(false)

    /// Where the node's shutdown is.
    struct Lifecycle {
        /// ``shutdown(within:)`` has begun waiting: no activation starts any more.
        var stopped = false
        /// Activations running (each until its room hibernates for good).
        var activations = 0
        /// Waiting for the last activation to end.
        var drained: [CheckedContinuation<Void, Never>] = []
        /// Waiting for a shutdown in progress to complete.
        var shutdownWaiters: [CheckedContinuation<Void, Never>] = []
        var shutdownDone = false
    }

    /// Takes the data directory's lock, opens the directory and starts the shard threads.
    ///
    /// - Throws: ``ConfigurationError`` for an invalid configuration, ``NodeLockError`` when
    ///   another node holds the data directory, or the error opening the node directory.
    ///   `metricsFactory` receives the runtime's metrics (default: discarded).
    public init(
        configuration: RuntimeConfiguration, logger: Logger = Logger(label: "rooms.runtime"),
        metricsFactory: any MetricsFactory = NOOPMetricsHandler.instance
    ) throws {
        try configuration.validate()
        self.configuration = configuration
        self.logger = logger
        layout = StorageLayout(root: configuration.dataDirectory, node: configuration.nodeID)
        // In a cluster: the shared directory together with the other nodes, this node's folder alone.
        clusterLock = configuration.nodeID != nil ? try NodeLock(directory: layout.root, shared: true) : nil
        nodeLock = try NodeLock(directory: layout.nodeRoot)
        do {
            directory = try NodeDirectory(
                file: layout.directoryFile, synchronous: configuration.synchronous,
                mirrored: configuration.directoryMirror != nil)
            try directory.markAllHibernated()
        } catch {
            nodeLock.release()
            clusterLock?.release()
            throw error
        }
        activeRooms = ActiveRooms(capacity: configuration.activeRoomCapacity)
        warmDatabases = WarmDatabases(capacity: configuration.warmDatabases)
        quarantine = Quarantine(initialBackoff: configuration.quarantineBackoff)
        router = Router(shardCount: configuration.shardCount)
        metrics = RuntimeMetrics(factory: metricsFactory, shards: configuration.shardCount)
        // Schedules that fell due while the node was down fire as soon as the clock runs.
        for (address, due) in try directory.pendingAlarms() where configuration.kinds[address.kind] != nil {
            alarms.set(address, due: due)
        }
    }

    // MARK: - Addresses

    /// The kind named `name`, if this node serves it.
    public func kind(named name: String) -> RoomKind? {
        configuration.kinds[name]
    }

    /// The address of room `id` of kind `kind`, checked against the configuration.
    ///
    /// - Throws: ``RoomError`` `invalid_kind` or `invalid_room_id` (400), or `unknown_kind` (404).
    public func address(kind: String, id: String) throws(RoomError) -> RoomAddress {
        let address = try RoomAddress(kind: kind, id: id)
        guard self.kind(named: kind) != nil else {
            throw .notFound(.unknownKind, "kind '\(kind)' is not configured on this node")
        }
        return address
    }

    // MARK: - Connections and requests

    /// Opens a connection for `user` to the room at `address`.
    ///
    /// The room activates if needed, sends the `welcome` frame and runs its `onConnect` hook.
    ///
    /// - Throws: ``RoomError`` `shutting_down` when the node is stopping.
    public func connect(
        to address: RoomAddress, user: String, parameters: [String: String] = [:],
        transport: any ConnectionTransport
    ) throws(RoomError) -> ConnectionHandle {
        try connect(to: address, identity: .named(user), parameters: parameters, transport: transport)
    }

    /// Opens a connection for `identity` (as the server verified it) to the room at `address`.
    ///
    /// The room checks its access first (``RoomAccess``): a connection that may not enter is
    /// refused in its turn, with an error frame and the close code for the error.
    ///
    /// `viaPeer`: another node forwarded the connection here (see ``RoomForwarder``); it is
    /// never forwarded again.
    public func connect(
        to address: RoomAddress, identity: Identity, parameters: [String: String] = [:],
        transport: any ConnectionTransport, viaPeer: Bool = false
    ) throws(RoomError) -> ConnectionHandle {
        guard !isStopping else { throw Self.shuttingDown }
        let connection = RoomConnection(
            identity: identity, parameters: parameters, transport: transport, viaPeer: viaPeer)
        let routed = deliver(.connect(connection), to: try slot(for: address))
        return ConnectionHandle(connection: connection, slot: routed.slot, runtime: self)
    }

    /// Sends `request` to the room at `address` and returns its response once committed.
    ///
    /// - Throws: the ``RoomError`` the room threw, `storage_failed` when the commit failed,
    ///   `room_overloaded` when the room's mailbox is full, `room_unavailable`, or
    ///   `shutting_down`.
    public func request(_ request: RoomRequest, to address: RoomAddress) async throws(RoomError) -> RoomResponse {
        let slot = try slot(for: address)
        let result = await withCheckedContinuation { continuation in
            deliver(.request(request, ResponseHandler { continuation.resume(returning: $0) }), to: slot)
        }
        return try result.get()
    }

    /// Sends `request` to the room at `address` now, and calls `answer` (once, from any thread)
    /// with its response once committed, or with the error of ``request(_:to:)``.
    ///
    /// Unlike ``request(_:to:)`` it queues the request before it returns: requests submitted one
    /// after another from one thread reach their room in that order, as a socket's frames do (a
    /// STOMP connection's `SEND`s).
    ///
    /// - Throws: ``RoomError`` `unknown_kind`, without calling `answer`; every other failure goes
    ///   to `answer`.
    @_spi(Node)
    public func submit(
        _ request: RoomRequest, to address: RoomAddress,
        answer: @escaping @Sendable (Result<RoomResponse, RoomError>) -> Void
    ) throws(RoomError) {
        deliver(.request(request, ResponseHandler(deliver: answer)), to: try slot(for: address))
    }

    // MARK: - Reading the node's state

    /// What is known about the room at `address`, without waking it.
    public func info(for address: RoomAddress) throws(RoomError) -> RoomInfo {
        let slot = slots.withLock { $0[address] }
        if let slot, slot.phase != .removed, let lastSequence = slot.lastSequence {
            let live = slot.isLive
            return RoomInfo(
                kind: address.kind, id: address.id, active: live, connections: slot.connectionCount,
                lastSeq: lastSequence, exists: slot.isMaterialized || slot.kind.roomClass.isEphemeral)
        }
        let peeked: Int64?
        let file = layout.file(of: address)
        do {
            peeked = try RoomStorage.peekSequence(file: file)
        } catch where !FileManager.default.fileExists(atPath: file.path) {
            // Deleted (DELETE or TTL expiry) while it was being read: the room no longer exists.
            peeked = nil
        } catch {
            logger.error("cannot read room file", metadata: ["room": "\(address)", "error": "\(error)"])
            throw .unavailable(.roomUnavailable, "the room's file cannot be read")
        }
        return RoomInfo(
            kind: address.kind, id: address.id, active: slot?.isLive ?? false,
            connections: slot?.connectionCount ?? 0, lastSeq: peeked ?? 0, exists: peeked != nil)
    }

    /// The largest page ``listRooms(kind:prefix:cursor:limit:)`` returns.
    public static let maxListLimit = 1_000

    /// A page of the rooms this node created, in (kind, id) order.
    ///
    /// - Throws: ``RoomError`` `unknown_kind`, or `invalid_query` for a bad limit, prefix or cursor.
    public func listRooms(kind: String?, prefix: String = "", cursor: String? = nil, limit: Int = 100)
        throws(RoomError) -> RoomPage
    {
        let after = try checkListing(kind: kind, prefix: prefix, cursor: cursor, limit: limit)
        let entries: [DirectoryEntry]
        do {
            flushDirectory()
            entries = try directory.list(kind: kind, prefix: prefix, after: after, limit: limit + 1)
        } catch {
            throw .unavailable(.roomUnavailable, "the node directory cannot be read")
        }
        let live = slots.withLock { slots in Set(entries.compactMap { slots[$0.address]?.isLive == true ? $0.address : nil }) }
        return Self.page(of: entries, limit: limit) { live.contains($0.address) }
    }

    /// A page of the rooms `source` lists (in a cluster, the cluster's directory), checked as
    /// ``listRooms(kind:prefix:cursor:limit:)`` checks its query; a room is active as `source`
    /// last recorded it.
    ///
    /// - Throws: ``RoomError`` as ``listRooms(kind:prefix:cursor:limit:)``, `room_unavailable`
    ///   when `source` fails.
    public func listRooms(
        kind: String?, prefix: String, cursor: String?, limit: Int,
        from source: (_ kind: String?, _ prefix: String, _ after: RoomAddress?, _ limit: Int) async throws -> [DirectoryEntry]
    ) async throws(RoomError) -> RoomPage {
        let after = try checkListing(kind: kind, prefix: prefix, cursor: cursor, limit: limit)
        let entries: [DirectoryEntry]
        do {
            entries = try await source(kind, prefix, after, limit + 1)
        } catch {
            throw .unavailable(.roomUnavailable, "the cluster's room directory cannot be read")
        }
        return Self.page(of: entries, limit: limit) { $0.isActive }
    }

    /// Checks a listing's query; returns the room its cursor names.
    private func checkListing(kind: String?, prefix: String, cursor: String?, limit: Int) throws(RoomError)
        -> RoomAddress?
    {
        if let kind, self.kind(named: kind) == nil {
            throw .notFound(.unknownKind, "kind '\(kind)' is not configured on this node")
        }
        guard (1...Self.maxListLimit).contains(limit) else {
            throw .badRequest(.invalidQuery, "'limit' must be an integer from 1 to \(Self.maxListLimit)")
        }
        guard prefix.utf8.count <= RoomAddress.maxIDBytes else {
            throw .badRequest(.invalidQuery, "'prefix' is longer than a room id")
        }
        return try cursor.map { (cursor) throws(RoomError) in try RoomPage.address(fromCursor: cursor) }
    }

    /// The first `limit` of `entries` (one more says there is a next page).
    private static func page(of entries: [DirectoryEntry], limit: Int, isActive: (DirectoryEntry) -> Bool) -> RoomPage {
        let page = entries.prefix(limit)
        return RoomPage(
            rooms: page.map {
                RoomPage.Entry(
                    kind: $0.address.kind, id: $0.address.id, createdAt: $0.createdAt, lastActiveAt: $0.lastActiveAt,
                    active: isActive($0), lastSeq: $0.lastSequence)
            },
            cursor: entries.count > limit ? page.last.map { RoomPage.cursor(after: $0.address) } : nil)
    }

    /// Gives the room at `address` an alarm (one of its schedules may be due), activating it: in a
    /// cluster, for a room whose owner stopped with a schedule due.
    public func wakeForAlarm(_ address: RoomAddress) {
        deliverAlarm(to: address)
    }

    /// The number of rooms in memory now.
    public var activeRoomCount: Int { activeRooms.count }

    /// The number of room database files open now.
    public var openDatabaseCount: Int { openDatabases.open }

    /// The number of hibernated rooms whose database is kept open for their next activation
    /// (`storage.warmDatabases`); they are among ``openDatabaseCount``.
    public var warmDatabaseCount: Int { warmDatabases.count }

    /// The most room database files that were open at once since the node started.
    public var peakOpenDatabaseCount: Int { openDatabases.peak }

    /// The number of rooms out of memory that still have open connections.
    public var hibernatedRoomsWithConnections: Int {
        slots.withLock { slots in
            slots.values.reduce(0) { count, slot in count + (slot.phase == .hibernated && slot.connectionCount > 0 ? 1 : 0) }
        }
    }

    /// Asks the room at `address` to leave memory as if the node needed its place: it does once
    /// its mailbox is empty, even if it keeps itself active, and comes back with the next event.
    /// Returns false when the room is not in memory.
    @discardableResult
    public func requestHibernation(of address: RoomAddress) -> Bool {
        guard let slot = slots.withLock({ $0[address] }), slot.isLive else { return false }
        slot.requestHibernation(.capacity)
        return true
    }

    /// The most events queued in one room's mailbox now.
    public var deepestMailbox: Int {
        slots.withLock { slots in slots.values.reduce(0) { max($0, $1.queuedEvents) } }
    }
}
