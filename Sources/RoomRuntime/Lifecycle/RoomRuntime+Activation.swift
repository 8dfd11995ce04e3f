import Synchronization
import Logging
import CoreMetrics
import Foundation

extension RoomRuntime {
    /// Starts bringing `slot`'s room into memory, on its shard, unless the node has stopped.
    func startActivation(of slot: RoomSlot) {
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
            let ending = await runRoom(slot)
            if case .failedToStart(let error) = ending {
                // What another node forwarded here goes back to it as `moved`: it asks the
                // cluster again rather than give its client this node's trouble.
                let events = slot.drainMailbox()
                reject(events.filter { !$0.isViaPeer }, of: slot, with: error)
                reject(events.filter(\.isViaPeer), of: slot, with: .moved)
            }
            let (reactivate, reason) = slot.finishHibernation()
            // A deletion is counted once, where it completes (`finishDeletion`); a room that
            // never started did not leave memory.
            if case .failedToStart = ending {} else if case .forwarded = ending {} else if reason != .deleting {
                metrics.recordHibernation(reason.map { "\($0)" } ?? "restart")
            }
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
            finishDeletion(of: slot, existed: nil)
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
    func reject(_ events: [RoomEvent], of slot: RoomSlot, with error: RoomError) {
        for event in events {
            if case .disconnect(let connection) = event { slot.removeConnection(connection) }
            event.reject(with: error)
        }
    }

    /// Opens the room's database, runs the room, and closes the database.
    ///
    /// A room whose file exists is rehydrated from it; one without a file starts on an in-memory
    /// database and is created on disk by its first commit that counts (see ``RoomPhase``). A
    /// file that cannot be opened or migrated puts the room in quarantine: logged once, counted,
    /// retried with backoff.
    private func runRoom(_ slot: RoomSlot) async -> RoomContext.Ending {
        let address = slot.address
        guard !quarantine.isHeld(address) else { return .failedToStart(Self.quarantined) }
        var ownerEpoch: Int64?
        // A room forwarded before goes the same way while its route is open; a node forwarding
        // here believes this node owns the room, so then the control plane is asked.
        if let route = configuration.forwarder?.knownRoute(for: address), !slot.hasEventsViaPeer {
            reject(slot.forward(to: route), of: slot, with: .moved)
            return .forwarded
        }
        if let owners = configuration.owners {
            switch await owners.acquire(address) {
            case .owned(let epoch):
                ownerEpoch = epoch
            case .elsewhere(let node, let url):
                if let route = configuration.forwarder?.route(to: node, url: url, for: address) {
                    // Its events go to the owner from now on; those another node sent here go
                    // back (a room is never forwarded twice).
                    reject(slot.forward(to: route), of: slot, with: .moved)
                    return .forwarded
                }
                return .failedToStart(
                    .unavailable(.roomUnavailable, "the room is served by node \(node) (\(url)); connect there"))
            case .unavailable(let reason):
                return .failedToStart(.unavailable(.roomUnavailable, "the room cannot be served now: \(reason)"))
            }
        }
        let roomClass = slot.kind.roomClass
        let file = roomClass.isEphemeral ? nil : layout.file(of: address)
        // Its own warm database first, so that making room for files never closes it.
        let warm = warmDatabases.take(address)
        closeWarmDatabasesOverBudget()
        let storage: RoomStorage
        do {
            if let warm {
                storage = warm.storage
            } else {
                storage = try RoomStorage(
                    file: file, synchronous: configuration.synchronous, className: roomClass.name,
                    migrations: roomClass.migrations, deferringCreation: true, openFiles: openDatabases,
                    cacheKiB: configuration.roomCacheKiB)
            }
        } catch {
            if quarantine.recordFailure(address) {
                metrics.quarantined.increment()
                logger.error(
                    "room quarantined: its file cannot be opened; requests get room_unavailable, retried with backoff",
                    metadata: ["room": "\(address)", "file": "\(file?.path ?? "memory")", "error": "\(error)"])
            }
            return .failedToStart(Self.quarantined)
        }
        if quarantine.lift(address) {
            logger.notice("room out of quarantine: its file opened", metadata: ["room": "\(address)"])
        }
        if let ownerEpoch, file != nil {
            do {
                var leaseHolds: (@Sendable () -> Bool)?
                if let owners = configuration.owners {
                    leaseHolds = { owners.isLeaseValid }
                }
                try storage.takeOwnership(epoch: ownerEpoch, while: leaseHolds)
            } catch {
                storage.close()
                logger.warning(
                    "room not served: its file was taken over by another node",
                    metadata: ["room": "\(address)", "error": "\(error)"])
                return .failedToStart(RoomContext.storageFailed(error))
            }
        }
        let existed = file != nil && !storage.isProvisional
        slot.lastSequence = storage.committedSequence
        slot.isMaterialized = existed
        metrics.activations.increment()
        if existed {
            directory.noteActivity(address, active: true, lastSequence: nil, at: WallClock.millisecondsSince1970())
        }
        let context = RoomContext(
            slot: slot, storage: storage, room: slot.kind.makeRoom(), host: self,
            alarms: AlarmMirror(address: address, directory: directory, clock: alarms, inDirectory: existed))
        let ending = await context.run(existed ? .rehydrated : .created)
        if slot.isMaterialized {
            directory.noteActivity(
                address, active: false, lastSequence: slot.lastSequence, at: WallClock.millisecondsSince1970())
        }
        roomsLeftSinceTrim.add(1, ordering: .relaxed)
        return ending
    }

    /// Closes the storage of `slot`'s room, which left memory, or parks it open for the room's next
    /// activation when the room hibernated with everything committed (see `WarmDatabases`).
    /// Runs on the room's shard, as the room's last act.
    func roomDidStop(_ slot: RoomSlot, storage: RoomStorage, ending: RoomContext.Ending) {
        guard case .hibernated = ending, slot.phase != .deleting, !isStopping, storage.canStayOpen else {
            storage.close()
            return
        }
        storage.prepareToStayOpen()
        warmDatabases.park(storage, of: slot.address)?.storage.close()
    }

    /// Closes the least recently parked warm databases until every room holding a place under the
    /// cap could hold a file within the open-file budget: parked files give way to rooms that
    /// need one. Called whenever a room takes a place (activating, or back from a call that gave
    /// its place up), before it opens its file.
    func closeWarmDatabasesOverBudget() {
        let budget = configuration.activeRoomCapacity
        while warmDatabases.count > budget - activeRooms.placesHeld, let oldest = warmDatabases.takeOldest() {
            oldest.storage.close()
        }
    }

    /// Asks every room idle for the idle timeout to hibernate, and closes the warm databases of
    /// rooms asleep for longer than `warmTimeout`.
    func hibernateIdleRooms() {
        for slot in activeRooms.unused(since: .now - configuration.idleTimeout) {
            slot.requestHibernation(.idle)
        }
        let expired = warmDatabases.takeParked(before: .now - configuration.warmTimeout)
        for warm in expired { warm.storage.close() }
        if !expired.isEmpty { roomsLeftSinceTrim.add(expired.count, ordering: .relaxed) }
    }
}
