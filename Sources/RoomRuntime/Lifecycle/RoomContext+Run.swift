import Logging
extension RoomContext {
    /// What ended a run of the room.
    enum Ending {
        /// It hibernated, with everything committed.
        case hibernated
        /// A commit failed; it starts again from its file if events wait.
        case restarted
        /// `onStart` failed, or its commit did; the queued events are to be refused with the error.
        case failedToStart(RoomError)
        /// Another node owns the room: its events go there (``RoomSlot/forward(to:)``).
        case forwarded
    }

    /// Runs the room from activation to hibernation: `onStart`, then the mailbox until the room is
    /// asked to leave, then its snapshot and hibernate hooks. The host then closes the storage, or
    /// keeps it open for the room's next activation.
    func run(_ activation: Activation) async -> Ending {
        let ending = await serve(activation)
        work.cancelAll()
        cancelTimers()
        slot.keepsActive = false
        host.roomDidStop(slot, storage: storage, ending: ending)
        return ending
    }

    private func serve(_ activation: Activation) async -> Ending {
        await turn(.start) {
            try ensureSnapshotSchedule()
            try await room.onStart(activation, context: self)
        }
        if let failure = gate.lastFailure {
            storage.rollback()
            gate.fail(with: failure, in: slot)
            return .failedToStart(failure)
        }
        commitGroup()
        guard !mustRestart else {
            return .failedToStart(.unavailable(.roomUnavailable, "the room could not start: its storage failed"))
        }
        alarms.start(nextAlarm: try? storage.nextScheduleDue())
        slot.markActive()

        switch await serveMailbox() {
        case .restart, .answered:
            return .restarted
        case .hibernate(.deleting):
            // Keep what is committed-to already; the file goes next anyway.
            commitGroup()
            return .hibernated
        case .hibernate(let reason):
            logger.debug("hibernating", metadata: ["reason": "\(reason)"])
            // Work outside turns stops first; the hooks below wind it up.
            work.cancelAll()
            cancelTimers()
            updateKeepsActive()
            if slot.kind.snapshotInterval != nil {
                // Memory is about to go: the snapshot takes it, and a hibernated room needs no
                // periodic snapshot (activation sets the schedule again). The schedule goes in a
                // turn of its own: a snapshot that throws must not leave it behind, or it would
                // wake the hibernated room.
                await turn(.maintenance) { try await room.onSnapshot(context: self) }
                await turn(.maintenance) { try dropSnapshotSchedule() }
            }
            await turn(.maintenance) { try await room.onHibernate(context: self) }
            commitGroup()
            return mustRestart ? .restarted : .hibernated
        }
    }
}
