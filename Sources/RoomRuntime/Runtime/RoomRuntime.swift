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

    /// The runtime's metrics.
    public let metrics: RuntimeMetrics

    let activeRooms: ActiveRooms
    let alarms = AlarmClock()
    private let slots = Mutex<[RoomAddress: RoomSlot]>([:])
    private let lifecycle = Mutex(Lifecycle())
    /// Rooms that left memory since the allocator last gave memory back.
    private let roomsLeftSinceTrim = Atomic(0)

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
    ///   `metricsFactory` receives the runtime's metrics (default: discarded).
    public init(
        configuration: RuntimeConfiguration, logger: Logger = Logger(label: "rooms.runtime"),
        metricsFactory: any MetricsFactory = NOOPMetricsHandler.instance
    ) throws {
        try configuration.validate()
        self.configuration = configuration
        self.logger = logger
        layout = StorageLayout(root: configuration.dataDirectory)
        directory = try NodeDirectory(file: layout.directoryFile, synchronous: configuration.synchronous)
        try directory.markAllHibernated()
        activeRooms = ActiveRooms(capacity: configuration.activeRoomCapacity)
        router = Router(shardCount: configuration.shardCount)
        metrics = RuntimeMetrics(factory: metricsFactory, shards: configuration.shardCount)
        // Schedules that fell due while the node was down fire as soon as the clock runs.
        for (address, due) in try directory.pendingAlarms() where configuration.kinds[address.kind] != nil {
            alarms.set(address, due: due)
        }
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
        let result = await withCheckedContinuation { continuation in
            deliver(.request(request, ResponseHandler { continuation.resume(returning: $0) }), to: slot)
        }
        return try result.get()
    }

    /// Sends `request` to the room at `address` and hands the answer to `reply` (room-to-room
    /// calls, which must not block their caller's shard).
    func send(_ request: RoomRequest, to address: RoomAddress, reply: ResponseHandler) {
        do {
            deliver(.request(request, reply), to: try slot(for: address))
        } catch {
            reply.fail(error)
        }
    }

    /// Gives the room at `address` an alarm: one of its schedules may be due.
    func deliverAlarm(to address: RoomAddress) {
        guard let slot = try? slot(for: address) else {
            logger.warning("alarm for a kind no longer configured", metadata: ["room": "\(address)"])
            return
        }
        deliver(.alarm, to: slot)
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
        if let kind, self.kind(named: kind) == nil {
            throw .notFound(.unknownKind, "kind '\(kind)' is not configured on this node")
        }
        guard (1...Self.maxListLimit).contains(limit) else {
            throw .badRequest(.invalidQuery, "'limit' must be an integer from 1 to \(Self.maxListLimit)")
        }
        guard prefix.utf8.count <= RoomAddress.maxIDBytes else {
            throw .badRequest(.invalidQuery, "'prefix' is longer than a room id")
        }
        let after = try cursor.map { (cursor) throws(RoomError) in try RoomPage.address(fromCursor: cursor) }
        let entries: [DirectoryEntry]
        do {
            flushDirectory()
            entries = try directory.list(kind: kind, prefix: prefix, after: after, limit: limit + 1)
        } catch {
            throw .unavailable(.roomUnavailable, "the node directory cannot be read")
        }
        let page = entries.prefix(limit)
        let live = slots.withLock { slots in Set(page.compactMap { slots[$0.address]?.isLive == true ? $0.address : nil }) }
        return RoomPage(
            rooms: page.map {
                RoomPage.Entry(
                    kind: $0.address.kind, id: $0.address.id, createdAt: $0.createdAt, lastActiveAt: $0.lastActiveAt,
                    active: live.contains($0.address), lastSeq: $0.lastSequence)
            },
            cursor: entries.count > limit ? page.last.map { RoomPage.cursor(after: $0.address) } : nil)
    }

    /// The number of rooms in memory now.
    public var activeRoomCount: Int { activeRooms.count }

    /// The number of rooms out of memory that still have open connections.
    public var hibernatedRoomsWithConnections: Int {
        slots.withLock { slots in
            slots.values.reduce(0) { count, slot in count + (slot.phase == .hibernated && slot.connectionCount > 0 ? 1 : 0) }
        }
    }

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
            switch event {
            case .message, .disconnect, .job:
                // The connection's room was deleted (or never accepted it), or the activation
                // that queued the job is gone: no room is brought back to life for it.
                event.reject(with: Self.deleted)
                return slot
            case .connect, .request, .alarm:
                // The slot hibernated and was dropped between lookup and delivery; a fresh slot
                // takes the event.
                return deliver(event, to: self.slot(for: slot.address, kind: slot.kind))
            }
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
            metrics.recordHibernation(reason.map { "\($0)" } ?? "restart")
            guard reactivate else { break }
            if reason == .capacity || activeRooms.waiting > 0 {
                // Events arrived while the room was leaving to make room for another: it queues
                // again behind the activations already waiting rather than keep its place.
                activeRooms.release(slot)
                await activeRooms.admit(slot)
            }
        }
        activeRooms.release(slot)
        if slot.phase == .deleting {
            finishDeletion(of: slot, existed: true)
            return
        }
        if isStopping {
            reject(slot.drainMailbox(), of: slot, with: Self.shuttingDown)
        }
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
        let ephemeral = slot.kind.roomClass.isEphemeral
        let file = ephemeral ? nil : layout.file(of: address)
        let exists = file.map { FileManager.default.fileExists(atPath: $0.path) } ?? false
        let storage: RoomStorage
        do {
            if !exists, !ephemeral {
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
        metrics.activations.increment()
        if !ephemeral {
            directory.noteActivity(address, active: true, lastSequence: nil, at: WallClock.millisecondsSince1970())
        }
        let context = RoomContext(slot: slot, storage: storage, room: slot.kind.makeRoom(), runtime: self)
        let ending = await context.run(exists ? .rehydrated : .created)
        if !ephemeral {
            directory.noteActivity(
                address, active: false, lastSequence: slot.lastSequence, at: WallClock.millisecondsSince1970())
        }
        roomsLeftSinceTrim.add(1, ordering: .relaxed)
        return ending
    }

    /// Asks every room idle for the idle timeout to hibernate.
    func hibernateIdleRooms() {
        for slot in activeRooms.unused(since: .now - configuration.idleTimeout) {
            slot.requestHibernation(.idle)
        }
    }

    // MARK: - Deletion and expiry

    private static let deleted = RoomError.notFound(.roomDeleted, "the room was deleted")

    /// Deletes the room at `address`: its connections close with 4404, its file and its
    /// directory row are removed, and events queued for it are refused with `room_deleted`.
    /// A later event creates the room afresh. Returns whether the room existed.
    ///
    /// - Throws: ``RoomError`` `unknown_kind`, or `shutting_down`.
    public func delete(_ address: RoomAddress) async throws(RoomError) -> Bool {
        guard !isStopping else { throw Self.shuttingDown }
        while true {
            let slot = try slot(for: address)
            let existed: Bool? = await withCheckedContinuation { continuation in
                switch slot.requestDeletion(continuation) {
                case .slotRemoved: continuation.resume(returning: nil)
                case .deleteNow: finishDeletion(of: slot, existed: nil)
                case .willComplete: break
                }
            }
            if let existed { return existed }
        }
    }

    /// Removes `slot`'s room: file, directory row, alarm; closes its connections with 4404 and
    /// refuses its queued events. `existed` is computed from the file when nil.
    private func finishDeletion(of slot: RoomSlot, existed: Bool?) {
        let address = slot.address
        let file = layout.file(of: address)
        let existed = existed ?? FileManager.default.fileExists(atPath: file.path)
        for suffix in ["", "-wal", "-shm", "-journal"] {
            try? FileManager.default.removeItem(atPath: file.path + suffix)
        }
        do {
            try directory.remove(address)
        } catch {
            logger.error("cannot remove a room from the directory", metadata: ["room": "\(address)", "error": "\(error)"])
        }
        alarms.set(address, due: nil)
        let (events, connections, waiters) = slot.finishDeletion()
        for connection in connections {
            connection.transport.send(ErrorFrame.frame(for: Self.deleted))
            connection.transport.close(code: .roomDeleted, reason: RoomError.Code.roomDeleted.rawValue)
        }
        for event in events { event.reject(with: Self.deleted) }
        slots.withLock { slots in
            if slots[address] === slot { slots.removeValue(forKey: address) }
        }
        metrics.recordHibernation("deleted")
        logger.info("room deleted", metadata: ["room": "\(address)"])
        for waiter in waiters { waiter.resume(returning: existed) }
    }

    /// Deletes the rooms of kinds with a `ttl` that nobody touched for that long and that are not
    /// in memory. Returns how many were deleted.
    @discardableResult
    func expireRooms(now: Int64 = WallClock.millisecondsSince1970()) -> Int {
        var expired = 0
        flushDirectory()
        for kind in configuration.kinds.values {
            guard let ttl = kind.ttl else { continue }
            let candidates: [RoomAddress]
            do {
                candidates = try directory.untouched(kind: kind.name, since: now - ttl.milliseconds, limit: 1_000)
            } catch {
                logger.error("cannot read the directory for expiry", metadata: ["error": "\(error)"])
                continue
            }
            for address in candidates where !directory.hasPendingActivity(address) {
                // Only a room with no slot is claimed: one in memory is in use.
                let claimed: RoomSlot? = slots.withLock { slots in
                    guard slots[address] == nil else { return nil }
                    let slot = RoomSlot(address: address, kind: kind, shard: router.shard(for: address))
                    guard slot.claimForExpiry() else { return nil }
                    slots[address] = slot
                    return slot
                }
                guard let claimed else { continue }
                finishDeletion(of: claimed, existed: true)
                expired += 1
            }
        }
        return expired
    }

    // MARK: - Running and stopping

    /// Runs the node's housekeeping until the task is cancelled or graceful shutdown begins, then
    /// stops the runtime (``shutdown()``).
    public func run() async {
        // The housekeeping loop and the alarm clock sleep: cancel them at once on shutdown.
        await cancelWhenGracefulShutdown {
            await withTaskGroup(of: Void.self) { group in
                group.addTask { await self.housekeeping() }
                group.addTask { await self.alarms.run { address in self.deliverAlarm(to: address) } }
            }
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
        var sinceExpiry = Duration.zero
        let sweep = configuration.sweepInterval
        // Keeps going while stopping (rooms still hibernate and the directory is still flushed):
        // only this service's own shutdown, which cancels the loop, ends it.
        while !Task.isCancelled {
            do { try await Task.sleep(for: sweep) } catch { return }
            hibernateIdleRooms()
            sinceFlush += sweep
            sinceExpiry += sweep
            if sinceFlush >= configuration.directoryFlushInterval {
                sinceFlush = .zero
                flushDirectory()
                releaseFreedMemory()
            }
            if let interval = configuration.expiryInterval, sinceExpiry >= interval, !isStopping {
                sinceExpiry = .zero
                expireRooms()
            }
        }
    }

    /// Gives the memory of rooms that left memory back to the system. The C allocator keeps
    /// what a room's SQLite connection and buffers freed for reuse, so without this a burst of
    /// activations leaves the process as large as its peak.
    private func releaseFreedMemory() {
        let left = roomsLeftSinceTrim.exchange(0, ordering: .relaxed)
        guard left > 0 else { return }
        Allocator.releaseFreeMemory()
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
