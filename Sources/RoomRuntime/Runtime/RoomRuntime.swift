import Foundation
public import Logging
public import ServiceLifecycle
import Synchronization

/// One node's room runtime: the shards, the rooms in memory, their storage and the directory.
///
/// The server hands it connections (``connect(to:user:parameters:transport:)``), messages and
/// HTTP requests (``request(_:to:)``); the runtime routes each to its room's mailbox on the room's
/// shard, activating the room from its file first if needed, and hibernates rooms that stay idle.
///
/// Call ``run()`` (it is what a service group runs) to keep the node's housekeeping going: idle
/// rooms hibernate and the directory is flushed while it runs, and everything is stored and closed
/// when it returns.
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

    let activeRooms: ActiveRooms
    private let slots = Mutex<[RoomAddress: RoomSlot]>([:])
    private let lifecycle = Mutex(Lifecycle())

    private struct Lifecycle {
        var stopping = false
        var stopped = false
        var activations = 0
        var drained: [CheckedContinuation<Void, Never>] = []
    }

    /// Opens the data directory and starts the shard threads.
    ///
    /// - Throws: ``ConfigurationError`` for an invalid configuration, or the error opening the
    ///   node directory.
    public init(configuration: RuntimeConfiguration, logger: Logger = Logger(label: "rooms.runtime")) throws {
        try configuration.validate()
        self.configuration = configuration
        self.logger = logger
        layout = StorageLayout(root: configuration.dataDirectory)
        directory = try NodeDirectory(file: layout.directoryFile, synchronous: configuration.synchronous)
        try directory.markAllHibernated()
        activeRooms = ActiveRooms(capacity: configuration.activeRoomCapacity)
        router = Router(shardCount: configuration.shardCount)
    }

    // MARK: - Entry points for the server

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

    /// Opens a connection for `user` to the room at `address`.
    ///
    /// The room activates if needed, sends the `welcome` frame and runs its `onConnect` hook.
    ///
    /// - Throws: ``RoomError`` `shutting_down` when the node is stopping.
    public func connect(
        to address: RoomAddress, user: String, parameters: [String: String] = [:],
        transport: any ConnectionTransport
    ) throws(RoomError) -> ConnectionHandle {
        guard !isStopping else { throw Self.shuttingDown }
        let connection = RoomConnection(user: user, parameters: parameters, transport: transport)
        let slot = deliver(.connect(connection), to: try slot(for: address))
        return ConnectionHandle(connection: connection, slot: slot, runtime: self)
    }

    /// Sends `request` to the room at `address` and returns its response once committed.
    ///
    /// - Throws: the ``RoomError`` the room threw, `storage_failed` when the commit failed,
    ///   `room_unavailable`, or `shutting_down`.
    public func request(_ request: RoomRequest, to address: RoomAddress) async throws(RoomError) -> RoomResponse {
        let slot = try slot(for: address)
        do {
            return try await withCheckedThrowingContinuation { continuation in
                deliver(.request(request, continuation), to: slot)
            }
        } catch let error as RoomError {
            throw error
        } catch {
            throw .internal("unexpected failure: \(error)")
        }
    }

    /// What is known about the room at `address`, without waking it.
    public func info(for address: RoomAddress) throws(RoomError) -> RoomInfo {
        let slot = slots.withLock { $0[address] }
        if let slot, slot.phase != .removed, let lastSequence = slot.lastSequence {
            return RoomInfo(
                kind: address.kind, id: address.id, active: slot.isLive, connections: slot.connectionCount,
                lastSeq: lastSequence, exists: true)
        }
        let peeked: Int64?
        do {
            peeked = try RoomStorage.peekSequence(file: layout.file(of: address))
        } catch {
            logger.error("cannot read room file", metadata: ["room": "\(address)", "error": "\(error)"])
            throw .unavailable(.roomUnavailable, "the room's file cannot be read")
        }
        return RoomInfo(
            kind: address.kind, id: address.id, active: slot?.isLive ?? false,
            connections: slot?.connectionCount ?? 0, lastSeq: peeked ?? 0, exists: peeked != nil)
    }

    /// The number of rooms in memory now.
    public var activeRoomCount: Int { activeRooms.count }

    // MARK: - Routing events

    private static let shuttingDown = RoomError.unavailable(.shuttingDown, "the server is shutting down")

    /// Whether the runtime is stopping: new events are refused, live rooms hibernate once idle.
    var isStopping: Bool { lifecycle.withLock { $0.stopping } }

    /// The slot for `address`, created if absent.
    ///
    /// - Throws: ``RoomError`` `unknown_kind` when the address's kind is not configured.
    private func slot(for address: RoomAddress) throws(RoomError) -> RoomSlot {
        guard let kind = configuration.kinds[address.kind] else {
            throw .notFound(.unknownKind, "kind '\(address.kind)' is not configured on this node")
        }
        return slot(for: address, kind: kind)
    }

    private func slot(for address: RoomAddress, kind: RoomKind) -> RoomSlot {
        slots.withLock { slots in
            if let slot = slots[address] { return slot }
            let slot = RoomSlot(address: address, kind: kind, shard: router.shard(for: address))
            slots[address] = slot
            return slot
        }
    }

    /// Queues `event` in `slot`'s mailbox, activating the room when it is not in memory.
    /// Returns the slot that took the event.
    @discardableResult
    func deliver(_ event: RoomEvent, to slot: RoomSlot) -> RoomSlot {
        if isStopping {
            // A closing socket still leaves its room: a live room runs `onClose`, a hibernated
            // one just forgets the connection (it is not woken up to stop).
            if case .disconnect(let connection) = event, !slot.isLive {
                slot.removeConnection(connection)
                return slot
            }
            if case .disconnect = event {} else {
                event.reject(with: Self.shuttingDown)
                return slot
            }
        }
        switch slot.deliver(event) {
        case .queued:
            return slot
        case .mustActivate:
            startActivation(of: slot)
            return slot
        case .slotRemoved:
            // The slot hibernated and was dropped between lookup and delivery: it held no
            // connection, so `event` is a connect or a request; a fresh slot takes it.
            return deliver(event, to: self.slot(for: slot.address, kind: slot.kind))
        }
    }

    // MARK: - Activation and hibernation

    private func startActivation(of slot: RoomSlot) {
        let admitted = lifecycle.withLock { lifecycle in
            // Once `shutdown` has begun waiting, shards may be gone: no new activation starts.
            guard !lifecycle.stopped else { return false }
            lifecycle.activations += 1
            return true
        }
        guard admitted else {
            reject(slot.drainMailbox(), of: slot, with: Self.shuttingDown)
            _ = slot.finishHibernation()
            return
        }
        Task(executorPreference: slot.shard) {
            await self.activate(slot)
            let drained = self.lifecycle.withLock { lifecycle in
                lifecycle.activations -= 1
                guard lifecycle.activations == 0 else { return [CheckedContinuation<Void, Never>]() }
                defer { lifecycle.drained.removeAll() }
                return lifecycle.drained
            }
            for continuation in drained { continuation.resume() }
        }
    }

    /// Brings `slot`'s room into memory and runs it until it hibernates with nothing queued.
    /// Runs on the room's shard.
    private func activate(_ slot: RoomSlot) async {
        await activeRooms.admit(slot)
        while true {
            if case .failedToStart(let error) = await runRoom(slot) {
                reject(slot.drainMailbox(), of: slot, with: error)
            }
            let (reactivate, reason) = slot.finishHibernation()
            guard reactivate else { break }
            if reason == .capacity || activeRooms.waiting > 0 {
                // Events arrived while the room was leaving to make room for another: it queues
                // again behind the activations already waiting rather than keep its place.
                activeRooms.release(slot)
                await activeRooms.admit(slot)
            }
        }
        if isStopping {
            reject(slot.drainMailbox(), of: slot, with: Self.shuttingDown)
        }
        activeRooms.release(slot)
        slots.withLock { slots in
            if slot.removeIfUnused() { slots.removeValue(forKey: slot.address) }
        }
    }

    /// Answers `events` with `error` without running them; a disconnect just leaves the room.
    private func reject(_ events: [RoomEvent], of slot: RoomSlot, with error: RoomError) {
        for event in events {
            if case .disconnect(let connection) = event { slot.removeConnection(connection) }
            event.reject(with: error)
        }
    }

    /// Opens the room's file, runs the room, and closes the file.
    private func runRoom(_ slot: RoomSlot) async -> RoomContext.Ending {
        let address = slot.address
        let file = layout.file(of: address)
        let exists = FileManager.default.fileExists(atPath: file.path)
        let storage: RoomStorage
        do {
            if !exists {
                try directory.register(
                    address, file: StorageLayout.relativePath(of: address), at: WallClock.millisecondsSince1970())
            }
            storage = try RoomStorage(
                file: file, synchronous: configuration.synchronous, className: slot.kind.roomClass.name,
                migrations: slot.kind.roomClass.migrations)
        } catch {
            logger.error("cannot activate room", metadata: ["room": "\(address)", "error": "\(error)"])
            return .failedToStart(.unavailable(.roomUnavailable, "the room cannot be opened"))
        }
        slot.lastSequence = storage.committedSequence
        directory.noteActivity(address, active: true, lastSequence: nil, at: WallClock.millisecondsSince1970())
        let context = RoomContext(slot: slot, storage: storage, room: slot.kind.makeRoom(), runtime: self)
        let ending = await context.run(exists ? .rehydrated : .created)
        directory.noteActivity(
            address, active: false, lastSequence: slot.lastSequence, at: WallClock.millisecondsSince1970())
        return ending
    }

    /// Asks every room idle for the idle timeout to hibernate.
    func hibernateIdleRooms() {
        for slot in activeRooms.unused(since: .now - configuration.idleTimeout) {
            slot.requestHibernation(.idle)
        }
    }

    // MARK: - Running and stopping

    /// Runs the node's housekeeping until the task is cancelled or graceful shutdown begins, then
    /// stops the runtime (``shutdown()``).
    public func run() async {
        // The housekeeping loop sleeps between sweeps: cancel it at once on shutdown.
        await cancelWhenGracefulShutdown {
            await self.housekeeping()
        }
        beginShutdown()
        await shutdown()
    }

    /// Starts stopping: new connections, messages and requests are refused with
    /// `shutting_down`, while rooms finish what they have queued. ``shutdown()`` completes it.
    public func beginShutdown() {
        lifecycle.withLock { $0.stopping = true }
    }

    private func housekeeping() async {
        var sinceFlush = Duration.zero
        let sweep = configuration.sweepInterval
        // Keeps going while stopping (rooms still hibernate and the directory is still flushed):
        // only this service's own shutdown, which cancels the loop, ends it.
        while !Task.isCancelled {
            do { try await Task.sleep(for: sweep) } catch { return }
            hibernateIdleRooms()
            sinceFlush += sweep
            if sinceFlush >= configuration.directoryFlushInterval {
                sinceFlush = .zero
                flushDirectory()
            }
        }
    }

    private func flushDirectory() {
        do {
            try directory.flush()
        } catch {
            logger.error("cannot write the node directory", metadata: ["error": "\(error)"])
        }
    }

    /// Stops the runtime: refuses new events, lets rooms finish the turns they have queued, runs
    /// their hibernate hooks, commits and closes every file, then stops the shards.
    /// Idempotent.
    public func shutdown() async {
        let first = lifecycle.withLock { lifecycle in
            lifecycle.stopping = true
            defer { lifecycle.stopped = true }
            return !lifecycle.stopped
        }
        guard first else { return }
        for slot in activeRooms.all { slot.requestHibernation(.shutdown) }
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let done = lifecycle.withLock { lifecycle in
                if lifecycle.activations == 0 { return true }
                lifecycle.drained.append(continuation)
                return false
            }
            if done { continuation.resume() }
        }
        flushDirectory()
        try? directory.close()
        router.shutdown()
        logger.info("runtime stopped")
    }
}
