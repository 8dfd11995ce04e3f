import Logging
extension RoomContext {
    /// Why ``serveMailbox(until:)`` returned.
    enum MailboxExit {
        /// The room was asked to hibernate (only when not in a call).
        case hibernate(HibernationReason)
        /// A commit failed: memory may hold what was never stored, the room must restart.
        case restart
        /// The awaited call's answer is in.
        case answered
    }

    /// The room's one mailbox loop: takes events in order, runs each as a turn, commits the group
    /// when it is full or the mailbox empties, and parks when there is nothing to do.
    ///
    /// It serves both the room's normal run (`answer` nil: returns when the room is asked to
    /// hibernate) and the wait of a turn in a call (returns when `answer` is set; hibernation
    /// waits, and when another room needs a place the file is closed until the room next needs
    /// it). Every group commit gives the shard to its other rooms, so a room flooded with events
    /// does not starve its neighbours.
    func serveMailbox(until answer: PendingAnswer? = nil) async -> MailboxExit {
        let inCall = answer != nil
        var sinceYield = 0
        while true {
            if mustRestart { return .restart }
            if let answer, answer.isSet {
                commitGroup()
                return mustRestart ? .restart : .answered
            }
            switch slot.nextStep(inCall: inCall) {
            case .event(let event):
                if host.isAbandoning {
                    // Shutdown ran out of time: what is still queued is refused, not run.
                    event.reject(with: RoomRuntime.shuttingDown)
                    continue
                }
                guard await storageReady() else { return .restart }
                await handleQueued(event)
                sinceYield += 1
                if sinceYield >= host.groupCommitLimit {
                    sinceYield = 0
                    commitGroup()
                    await Task.yield()
                }
            case .idle:
                commitGroup()
                sinceYield = 0
                if mustRestart { return .restart }
                if inCall {
                    if answer?.isSet == true { continue }
                    if slot.takeDatabaseReleaseRequest() || host.isContended { releaseStorage() }
                    await slot.park(inCall: true)
                    continue
                }
                if host.isStopping {
                    slot.requestHibernation(.shutdown)
                    continue
                }
                await slot.park()
            case .hibernate(let reason):
                return .hibernate(reason)
            }
        }
    }

    /// Gives the room's place under the cap to a room that needs one, while this one waits in a
    /// call: its file is closed (an in-memory database, which holds no descriptor, stays open).
    private func releaseStorage() {
        guard !placeGivenUp, gate.isEmpty else { return }
        storage.releaseFile()
        placeGivenUp = true
        host.gaveUpPlace(slot)
    }

    /// Makes sure the room holds its place and its file is open before a turn or the rest of a
    /// call: takes a place again (waiting for one at the cap) and reopens the file. False when it
    /// cannot be reopened.
    func storageReady() async -> Bool {
        guard placeGivenUp else { return true }
        await host.reacquirePlace(slot)
        placeGivenUp = false
        do {
            try storage.reopenFile()
            return true
        } catch {
            logger.error("cannot reopen the room's file after a call", metadata: ["error": "\(error)"])
            mustRestart = true
            return false
        }
    }
}
