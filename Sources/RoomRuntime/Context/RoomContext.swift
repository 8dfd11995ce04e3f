import Foundation
public import Logging

/// A live room: the actor its hooks run on, and their window on the runtime.
///
/// Every hook of a ``Room`` receives the context as an `isolated` parameter, so inside a hook
/// you call it synchronously:
///
/// ```swift
/// func onMessage(_ message: ClientMessage, from connection: RoomConnection,
///                context: isolated RoomContext) async throws {
///     let seq = try context.nextSequence()
///     try context.storage.execute("INSERT INTO notes (seq, text) VALUES (?, ?)", arguments: [seq, text])
///     context.broadcast(try .json(Note(seq: seq, text: text)))
/// }
/// ```
///
/// The context runs on its room's ``Shard``. It handles one event at a time (a turn). Writes of a
/// turn commit together; when several events are queued, their turns share one commit (group
/// commit), and what the turns send (``send(_:to:)``, ``broadcast(_:except:)``, HTTP responses) is
/// held until that commit succeeds: the output gate. If the commit fails, the output is dropped
/// and every sender gets a `storage_failed` error instead, and the room restarts from its file.
public actor RoomContext {
    /// The room's address.
    public nonisolated let address: RoomAddress
    /// The room's storage: key-value, SQL and the sequence.
    public let storage: RoomStorage
    /// A logger carrying the room's address.
    public let logger: Logger

    /// The `id` of the client frame the current turn handles, once the room has decoded it.
    ///
    /// Set it as soon as you know it: errors the runtime reports for the turn (such as a failed
    /// commit) then name the frame they answer. Reset at the start of every turn.
    public var currentFrameID: String?

    nonisolated let slot: RoomSlot
    let room: any Room
    let runtime: RoomRuntime
    var turnOutput: [Delivery] = []
    var group: [FinishedTurn] = []
    var mustRestart = false
    /// Whether this group's turns changed the schedules (the next alarm must be reported).
    var schedulesChanged = false
    /// The next alarm last reported to the node's clock and directory.
    var reportedNextAlarm: Int64?
    /// Whether a batch of due schedules is running (a handler may be waiting in a call, while the
    /// room handles its other events).
    var firingSchedules = false

    public nonisolated var unownedExecutor: UnownedSerialExecutor {
        slot.shard.asUnownedSerialExecutor()
    }

    init(slot: RoomSlot, storage: RoomStorage, room: any Room, runtime: RoomRuntime) {
        self.address = slot.address
        self.slot = slot
        self.storage = storage
        self.room = room
        self.runtime = runtime
        var logger = runtime.logger
        logger[metadataKey: "room"] = "\(slot.address.path)"
        self.logger = logger
    }

    // MARK: - The room-class API

    /// The room's kind.
    public nonisolated var kind: String { address.kind }

    /// The room's id.
    public nonisolated var id: String { address.id }

    /// The open connections, in the order they joined.
    public var connections: [RoomConnection] { slot.connections }

    /// Sends `frame` to `connection` once the turn commits.
    public func send(_ frame: OutboundFrame, to connection: RoomConnection) {
        turnOutput.append(.one(connection, frame))
    }

    /// Sends `frame` to every open connection (but `except`) once the turn commits. The frame is
    /// encoded once and its buffer shared by every recipient.
    public func broadcast(_ frame: OutboundFrame, except: RoomConnection? = nil) {
        turnOutput.append(.many(slot.connections, except: except, frame))
    }

    /// The open connections carrying `tag`.
    public func connections(tagged tag: String) -> [RoomConnection] {
        slot.connections.filter { $0.tags.contains(tag) }
    }

    /// Sends `frame` to every open connection carrying `tag`, once the turn commits.
    public func send(_ frame: OutboundFrame, toTagged tag: String) {
        turnOutput.append(.many(connections(tagged: tag), except: nil, frame))
    }

    /// Replaces the tags of `connection` (at most ``RoomConnection/maxTags``, each 1 to 128 bytes).
    /// Tags live as long as the connection, across hibernation.
    ///
    /// - Throws: ``RoomError`` `invalid_tags`.
    public func setTags(_ tags: Set<String>, for connection: RoomConnection) throws(RoomError) {
        guard tags.count <= RoomConnection.maxTags,
            tags.allSatisfy({ !$0.isEmpty && $0.utf8.count <= RoomConnection.maxTagBytes })
        else {
            throw .badRequest(
                .invalidTags,
                "at most \(RoomConnection.maxTags) tags of 1 to \(RoomConnection.maxTagBytes) bytes")
        }
        connection.setTags(tags)
    }

    /// Stores a small value on `connection` (at most ``RoomConnection/maxAttachmentBytes`` of
    /// JSON), or removes it when `value` is nil. It lives as long as the connection, across
    /// hibernation: keep there what the room needs to know about a socket when it wakes.
    ///
    /// - Throws: ``RoomError`` `attachment_too_large`, or `internal_error` if it cannot be encoded.
    public func setAttachment(_ value: (some Encodable)?, for connection: RoomConnection) throws(RoomError) {
        guard let value else {
            connection.setAttachment(nil)
            return
        }
        let data: Data
        do {
            data = try JSONEncoder().encode(value)
        } catch {
            throw .internal("cannot encode the attachment: \(error)")
        }
        guard data.count <= RoomConnection.maxAttachmentBytes else {
            throw .tooLarge(
                .attachmentTooLarge,
                "an attachment is at most \(RoomConnection.maxAttachmentBytes) bytes of JSON; this is \(data.count)")
        }
        connection.setAttachment(data)
    }

    /// Closes `connection` with `code` once the turn commits (after the frames sent before).
    public func close(_ connection: RoomConnection, code: CloseCode = .normal, reason: String = "") {
        turnOutput.append(.close(connection, code, reason))
    }

    /// Allocates the room's next sequence number (1, 2, 3, ...), stored with the turn.
    ///
    /// The sequence is the runtime's: `GET /rooms/{kind}/{id}` reports its last committed value as
    /// `lastSeq` without waking the room, and the `welcome` frame carries it. Numbers are
    /// gap-free: a failed turn gives its numbers back.
    public func nextSequence() throws -> Int64 {
        try storage.nextSequence()
    }

    /// The last sequence number allocated, including this turn's.
    public var lastSequence: Int64 { storage.sequence }

    /// The current time in milliseconds since 1970.
    public nonisolated func now() -> Int64 { WallClock.millisecondsSince1970() }

    // MARK: - The turn loop

    /// What ended a run of the room.
    enum Ending {
        /// It hibernated (or was told to restart); its file is closed.
        case hibernated
        /// `onStart` failed; the queued events were rejected.
        case failedToStart(RoomError)
    }

    /// Runs the room: `onStart`, then the mailbox, until it hibernates. Closes the storage.
    func run(_ activation: Activation) async -> Ending {
        defer {
            storage.close()
            slot.keepsActive = false
        }
        await turn(.runtime) {
            try ensureSnapshotSchedule()
            try await room.onStart(activation, context: self)
        }
        if let failure = group.last?.failure {
            group.removeAll()
            storage.rollback()
            return .failedToStart(failure)
        }
        do {
            try storage.commit()
        } catch {
            logger.error("commit failed after onStart", metadata: ["error": "\(error)"])
            group.removeAll()
            return .failedToStart(.unavailable(.roomUnavailable, "the room could not start: its storage failed"))
        }
        commitGroup()
        reportedNextAlarm = try? storage.nextScheduleDue()
        runtime.alarms.set(address, due: reportedNextAlarm)
        slot.markActive()

        while true {
            if mustRestart { return .hibernated }
            switch slot.nextStep() {
            case .event(let event):
                await handleQueued(event)
            case .idle:
                commitGroup()
                if mustRestart { return .hibernated }
                if runtime.isStopping {
                    slot.requestHibernation(.shutdown)
                    continue
                }
                await slot.park()
            case .hibernate(.deleting):
                // Keep what is committed-to already; the file goes next anyway.
                commitGroup()
                return .hibernated
            case .hibernate(let reason):
                logger.debug("hibernating", metadata: ["reason": "\(reason)"])
                if slot.kind.snapshotInterval != nil {
                    // Memory is about to go: the snapshot takes it, and a hibernated room needs no
                    // periodic snapshot (activation sets the schedule again).
                    // The schedule goes in a turn of its own: a snapshot that throws must not
                    // leave it behind, or it would wake the hibernated room.
                    await turn(.runtime) { try await room.onSnapshot(context: self) }
                    await turn(.runtime) { try dropSnapshotSchedule() }
                }
                await turn(.runtime) { try await room.onHibernate(context: self) }
                commitGroup()
                return .hibernated
            }
        }
    }

    /// Handles an event from the mailbox, committing the group when it is full or when the turn
    /// wrote nothing (then no commit is worth waiting for).
    func handleQueued(_ event: RoomEvent) async {
        await handle(event)
        if group.count >= runtime.configuration.groupCommitLimit || !storage.hasUncommittedWrites {
            commitGroup()
        }
    }

    func handle(_ event: RoomEvent) async {
        switch event {
        case .connect(let connection):
            slot.addConnection(connection)
            await turn(.connect(connection)) {
                self.send(
                    try .json(
                        WelcomeFrame(
                            kind: kind, room: id, user: connection.user, lastSeq: storage.sequence,
                            connection: connection.id)),
                    to: connection)
                try await room.onConnect(connection, context: self)
            }
        case .message(let connection, let message):
            // A connection refused by `onConnect` may still have messages queued.
            guard slot.contains(connection) else { return }
            await turn(.connection(connection)) {
                try await room.onMessage(message, from: connection, context: self)
            }
        case .disconnect(let connection):
            guard slot.removeConnection(connection) else { return }
            await turn(.runtime) { try await room.onClose(connection, context: self) }
        case .request(let request, let reply):
            var response: RoomResponse?
            await turn(.request(reply, nil)) {
                response = try await room.onRequest(request, context: self)
            }
            if group[group.count - 1].failure == nil {
                group[group.count - 1].origin = .request(reply, response)
            }
        case .alarm:
            await fireDueSchedules()
        case .job(let job):
            guard job.origin == ObjectIdentifier(self) else { return }
            await turn(.runtime) { try await job.work(room, self) }
        }
    }

    /// Runs `body` as one turn: under a savepoint, with its output held for the group's commit.
    func turn(_ origin: FinishedTurn.Origin, _ body: () async throws -> Void) async {
        let started = ContinuousClock.now
        defer {
            let elapsed = ContinuousClock.now - started
            runtime.metrics.recordTurn(
                shard: slot.shard.index,
                nanoseconds: elapsed.components.seconds * 1_000_000_000 + elapsed.components.attoseconds / 1_000_000_000)
        }
        storage.beginTurn()
        currentFrameID = nil
        turnOutput.removeAll(keepingCapacity: true)
        var failure: RoomError?
        do {
            try await body()
        } catch {
            failure = roomError(for: error)
        }
        do {
            try storage.endTurn(keep: failure == nil)
        } catch {
            // SQLite dropped the whole transaction: every turn of the group is lost.
            logger.error("storage failure ending a turn", metadata: ["error": "\(error)"])
            failure = Self.storageFailed
            failGroup(with: Self.storageFailed)
        }
        if failure != nil { turnOutput.removeAll(keepingCapacity: true) }
        group.append(FinishedTurn(origin: origin, output: turnOutput, failure: failure, frameID: currentFrameID))
    }

    static let storageFailed = RoomError.unavailable(
        .storageFailed, "the room could not store this; nothing was stored")

    private func roomError(for error: any Error) -> RoomError {
        if let error = error as? RoomError { return error }
        if let error = error as? StorageError {
            logger.error("storage failure in a hook", metadata: ["error": "\(error)"])
            return Self.storageFailed
        }
        logger.error("room hook failed", metadata: ["error": "\(error)"])
        return .internal("the room failed to handle this", frameID: currentFrameID)
    }

    /// Commits the group's writes, then releases its output in order.
    func commitGroup() {
        guard !group.isEmpty else { return }
        do {
            var nextAlarm = reportedNextAlarm
            if schedulesChanged {
                nextAlarm = try storage.nextScheduleDue()
                // The directory learns of an earlier alarm before the room commits it, so that
                // after a crash it is never later than the room's own schedules.
                if let next = nextAlarm, reportedNextAlarm.map({ next < $0 }) ?? true {
                    try runtime.directory.setNextAlarm(address, due: next)
                }
            }
            try storage.commit()
            if schedulesChanged {
                schedulesChanged = false
                if nextAlarm != reportedNextAlarm { runtime.directory.noteNextAlarm(address, due: nextAlarm) }
                reportedNextAlarm = nextAlarm
                runtime.alarms.set(address, due: nextAlarm)
            }
            slot.lastSequence = storage.committedSequence
            if group.contains(where: \.usesRoom) { runtime.activeRooms.touch(slot) }
            for turn in group { turn.complete(in: slot) }
            group.removeAll(keepingCapacity: true)
        } catch {
            logger.error("commit failed", metadata: ["error": "\(error)"])
            failGroup(with: Self.storageFailed)
        }
    }

    /// Reports `error` to every sender of the group, drops its output, and restarts the room
    /// from its file, since memory may hold changes that were never stored.
    func failGroup(with error: RoomError) {
        storage.rollback()
        for turn in group { turn.complete(failingWith: error, in: slot) }
        group.removeAll(keepingCapacity: true)
        mustRestart = true
    }
}
