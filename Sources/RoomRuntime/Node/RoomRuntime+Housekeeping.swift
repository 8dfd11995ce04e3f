import Synchronization
import Logging
import Foundation
import ServiceLifecycle

extension RoomRuntime {
    /// Runs the node's housekeeping until the task is cancelled or graceful shutdown begins, then
    /// stops the runtime (``shutdown(within:)``).
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
    /// `shutting_down`, while rooms finish what they have queued. ``shutdown(within:)``
    /// completes it.
    public func beginShutdown() {
        stopping.store(true, ordering: .releasing)
        sequenceWatchers.wakeAll()
    }

    /// Whether the shutdown stopped waiting for rooms: what is still queued is refused.
    var isAbandoning: Bool { abandoning.load(ordering: .relaxed) }

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
                mirrorDirectory()
                releaseFreedMemory()
            }
            if let interval = configuration.expiryInterval, sinceExpiry >= interval, !isStopping {
                sinceExpiry = .zero
                if configuration.owners == nil { expireRooms() } else { expireClusterRooms() }
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

    /// Copies what changed in the directory to the cluster's (one batch in flight at a time; a
    /// failed batch is retried with the next).
    private func mirrorDirectory() {
        guard let mirror = configuration.directoryMirror, !mirroring.exchange(true, ordering: .acquiring) else { return }
        let changes = directory.takeMirrored()
        guard !changes.isEmpty else {
            mirroring.store(false, ordering: .releasing)
            return
        }
        Task {
            await copy(changes, to: mirror)
            mirroring.store(false, ordering: .releasing)
        }
    }

    private func copy(_ changes: [DirectoryChange], to mirror: any DirectoryMirror) async {
        do {
            try await mirror.record(changes)
        } catch {
            directory.restoreMirrored(changes)
            logger.warning("cannot copy the directory to the cluster's; retrying", metadata: ["error": "\(error)"])
        }
    }

    func flushDirectory() {
        do {
            try directory.flush()
        } catch {
            logger.error("cannot write the node directory", metadata: ["error": "\(error)"])
        }
    }

    /// Stops the runtime: refuses new events, lets rooms finish the turns they have queued (their
    /// answers are sent), runs their snapshot and hibernate hooks, commits and closes every file,
    /// then stops the shards and releases the data directory.
    ///
    /// Rooms get `timeout` to finish what is queued; after it, what is still queued is refused
    /// with `shutting_down` and the rooms hibernate at once. Later calls wait for the first to
    /// complete.
    public func shutdown(within timeout: Duration = .seconds(10)) async {
        stopping.store(true, ordering: .releasing)
        let first = lifecycle.withLock { lifecycle in
            defer { lifecycle.stopped = true }
            return !lifecycle.stopped
        }
        guard first else {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let done = lifecycle.withLock { lifecycle in
                    if lifecycle.shutdownDone { return true }
                    lifecycle.shutdownWaiters.append(continuation)
                    return false
                }
                if done { continuation.resume() }
            }
            return
        }
        for slot in activeRooms.all { slot.requestHibernation(.shutdown) }
        let deadline = Task {
            try? await Task.sleep(for: timeout)
            guard !Task.isCancelled else { return }
            abandoning.store(true, ordering: .releasing)
            logger.warning("shutdown timeout: refusing what rooms still have queued")
            for slot in activeRooms.all { slot.requestHibernation(.shutdown) }
        }
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let done = lifecycle.withLock { lifecycle in
                if lifecycle.activations == 0 { return true }
                lifecycle.drained.append(continuation)
                return false
            }
            if done { continuation.resume() }
        }
        deadline.cancel()
        for warm in warmDatabases.takeAll() { warm.storage.close() }
        flushDirectory()
        if let mirror = configuration.directoryMirror {
            // The last changes, before the node leaves the cluster, once a batch in flight has
            // landed (it ends within the control plane's request timeout): one landing after the
            // node left could bring back the row of a room another node deleted since. Holding
            // the flag keeps housekeeping from sending another.
            let patience = ContinuousClock.now + .seconds(15)
            while mirroring.exchange(true, ordering: .acquiring), ContinuousClock.now < patience {
                try? await Task.sleep(for: .milliseconds(5))
            }
            await copy(directory.takeMirrored(), to: mirror)
        }
        try? directory.close()
        router.shutdown()
        nodeLock.release()
        clusterLock?.release()
        logger.info("runtime stopped")
        let waiters = lifecycle.withLock { lifecycle in
            lifecycle.shutdownDone = true
            defer { lifecycle.shutdownWaiters.removeAll() }
            return lifecycle.shutdownWaiters
        }
        for waiter in waiters { waiter.resume() }
    }
}
