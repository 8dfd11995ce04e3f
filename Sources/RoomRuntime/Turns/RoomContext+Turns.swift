import GRDB
import Logging
extension RoomContext {
    /// The error a sender gets when its turn's writes could not be stored.
    static let storageFailed = RoomError.unavailable(
        .storageFailed, "the room could not store this; nothing was stored")

    /// Handles an event from the mailbox, committing the group when it is full or when the turn
    /// wrote nothing (then no commit is worth waiting for).
    func handleQueued(_ event: RoomEvent) async {
        await handle(event)
        if gate.count >= host.groupCommitLimit || !storage.hasUncommittedWrites {
            commitGroup()
        }
    }

    /// Runs the turn for `event`.
    func handle(_ event: RoomEvent) async {
        switch event {
        case .connect(let connection):
            slot.addConnection(connection)
            await turn(.connect(connection)) {
                try self.admit(connection)
                let replayed = try await self.replay(for: connection)
                let fields = try await room.welcome(for: connection, context: self)
                self.send(
                    try .json(
                        WelcomeFrame(
                            kind: kind, room: id, user: connection.user, lastSeq: storage.sequence,
                            connection: connection.id, epoch: storage.epoch, recovered: replayed != nil,
                            roomFields: fields)),
                    to: connection)
                for frame in replayed ?? [] { self.send(frame, to: connection) }
                try await room.onConnect(connection, context: self)
            }
        case .message(let connection, let message):
            // Frames of a connection that `onConnect` refused, or whose socket has closed, are
            // dropped: nobody is there to hear an answer, and an unanswered sender resends by id.
            guard slot.contains(connection), !connection.isClosed else {
                connection.finishFrame()
                return
            }
            await turn(.message(connection)) {
                try self.checkPoster(connection, message: message)
                try await room.onMessage(message, from: connection, context: self)
            }
        case .disconnect(let connection):
            guard slot.removeConnection(connection) else { return }
            await turn(.runtime) { try await room.onClose(connection, context: self) }
        case .request(let request, let reply):
            var response: RoomResponse?
            await turn(.request(reply, nil)) {
                if let answer = try self.answerForAccess(request) {
                    response = answer
                    let changes = memberChanges
                    memberChanges = []
                    if !changes.isEmpty { try await room.onMembersChanged(changes, context: self) }
                } else {
                    response = try await room.onRequest(request, context: self)
                }
            }
            gate.answerLastTurn(with: response)
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
        defer { host.metrics.recordTurn(shard: slot.shard.index, duration: ContinuousClock.now - started) }
        storage.beginTurn()
        gate.beginTurn(origin)
        var failure: RoomError?
        memberChanges = []
        do {
            try await body()
        } catch {
            failure = roomError(for: error)
        }
        let wrote = storage.turnWrote
        if failure != nil { memberCache = nil }
        do {
            try storage.endTurn(keep: failure == nil)
        } catch {
            // SQLite dropped the whole transaction (after a full disk or an I/O error): every
            // turn of the group is lost. The hook's own storage error, if any, says why.
            logger.error("storage failure ending a turn", metadata: ["error": "\(error)"])
            let reported = failure?.code == .storageFailed ? failure! : Self.storageFailed
            gate.endTurn(wrote: false, failure: reported)
            failGroup(with: reported)
            return
        }
        gate.endTurn(wrote: wrote, failure: failure)
    }

    /// What the sender of a failed turn is told. Failures of the storage itself (a full disk, a
    /// locked or damaged file) are `storage_failed`, with SQLite's reason in the log; a statement
    /// that is wrong (a constraint, a syntax error) is a bug of the room: `internal_error`.
    private func roomError(for error: any Error) -> RoomError {
        if let error = error as? RoomError { return error }
        let storageError = (error as? StorageError) ?? (error as? DatabaseError).map {
            StorageError(.statement, "a statement failed", cause: $0)
        }
        if let storageError, storageError.isEnvironmental {
            logger.error("storage failure in a hook", metadata: ["error": "\(storageError)"])
            return Self.storageFailed(storageError)
        }
        logger.error("room hook failed", metadata: ["error": "\(storageError.map { "\($0)" } ?? "\(error)")"])
        return .internal("the room failed to handle this", frameID: currentFrameID)
    }

    /// The `storage_failed` error for `cause`, saying what kind of failure it was.
    static func storageFailed(_ cause: StorageError) -> RoomError {
        if cause.kind == .fenced {
            return .unavailable(.roomUnavailable, "the room moved to another node; nothing was stored, try again")
        }
        if cause.isDiskFull {
            return .unavailable(.storageFailed, "the room's storage is full; nothing was stored")
        }
        if cause.isBusy {
            return .unavailable(.storageFailed, "the room's file is locked by another process; nothing was stored")
        }
        return storageFailed
    }

    /// Commits the group's writes, creates the room if they are its first, then releases the
    /// group's output in order.
    func commitGroup() {
        guard !gate.isEmpty else { return }
        do {
            let nextAlarm = try alarms.prepareCommit(storage: storage)
            try storage.commit()
            if storage.isProvisional, gate.createsRoom {
                try create(nextAlarm: nextAlarm)
            }
            alarms.didCommit(nextAlarm)
            let before = slot.lastSequence
            slot.lastSequence = storage.committedSequence
            if storage.committedSequence != before { host.sequenceAdvanced(address, to: storage.committedSequence) }
            if gate.usesRoom { host.touch(slot) }
            gate.release(in: slot)
        } catch {
            logger.error("commit failed", metadata: ["error": "\(error)"])
            failGroup(with: (error as? StorageError).map(Self.storageFailed) ?? Self.storageFailed)
        }
    }

    /// Creates the room on disk, after its first commit that counts: its directory row (with its
    /// next alarm), then its file, written from the in-memory database.
    private func create(nextAlarm: Int64?) throws {
        try host.register(address, nextAlarm: nextAlarm)
        do {
            try storage.materialize()
        } catch {
            host.unregister(address)
            throw error
        }
        slot.isMaterialized = true
        alarms.created(nextAlarm: nextAlarm)
        logger.debug("room created")
    }

    /// Reports `error` to every sender of the group, drops its output, and restarts the room
    /// from its file, since memory may hold changes that were never stored.
    func failGroup(with error: RoomError) {
        storage.rollback()
        gate.fail(with: error, in: slot)
        mustRestart = true
    }
}
