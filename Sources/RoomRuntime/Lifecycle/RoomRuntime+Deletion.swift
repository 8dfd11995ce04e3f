import Synchronization
import Logging
import Foundation

extension RoomRuntime {
    /// Deletes the room at `address`: its connections close with 4404, its file and its
    /// directory row are removed, and events queued for it are refused with `room_deleted`.
    /// A later event creates the room afresh. Returns whether the room existed.
    ///
    /// In a cluster, only the room's owner deletes it: the node takes the room first (as an
    /// activation would), so that no other node is writing to the file it removes.
    ///
    /// Another node owns it: the deletion is forwarded there (`viaPeer`: it was forwarded here,
    /// and is not forwarded again).
    ///
    /// - Throws: ``RoomError`` `unknown_kind`, `shutting_down`, or `room_unavailable` (in a
    ///   cluster, when the room's owner cannot be reached).
    public func delete(_ address: RoomAddress, viaPeer: Bool = false) async throws(RoomError) -> Bool {
        guard !isStopping else { throw Self.shuttingDown }
        if let owners = configuration.owners {
            switch await owners.acquire(address) {
            case .owned:
                break
            case .elsewhere(let node, let url):
                if viaPeer { throw .moved }
                if let route = configuration.forwarder?.route(to: node, url: url, for: address) {
                    var request = RoomRequest(method: "DELETE", path: [])
                    request.purpose = .deletion
                    let answer = await withCheckedContinuation { continuation in
                        route.request(request) { continuation.resume(returning: $0) }
                    }
                    // 204: it existed; 404: it did not.
                    return try answer.get().status == 204
                }
                throw .unavailable(.roomUnavailable, "the room is served by node \(node) (\(url)); delete it there")
            case .unavailable(let reason):
                throw .unavailable(.roomUnavailable, "the room cannot be deleted now: \(reason)")
            }
        }
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

    /// Removes `slot`'s room: file, directory row, alarm, quarantine; closes its connections
    /// with 4404 and refuses its queued events. `existed` is computed from the file when nil.
    func finishDeletion(of slot: RoomSlot, existed: Bool?) {
        let address = slot.address
        let file = layout.file(of: address)
        let existed = existed ?? FileManager.default.fileExists(atPath: file.path)
        warmDatabases.take(address)?.storage.close()
        sequenceWatchers.wakeAll(address)
        for suffix in StorageLayout.fileSuffixes {
            try? FileManager.default.removeItem(atPath: file.path + suffix)
        }
        RoomFileImage.removeLeftovers(of: file)
        do {
            try directory.remove(address)
        } catch {
            logger.error("cannot remove a room from the directory", metadata: ["room": "\(address)", "error": "\(error)"])
        }
        alarms.set(address, due: nil)
        quarantine.lift(address)
        slot.isMaterialized = false
        let (events, connections, waiters) = slot.finishDeletion()
        for connection in connections { connection.refuse(with: Self.deleted) }
        for event in events { event.reject(with: Self.deleted) }
        slots.withLock { slots in
            if slots[address] === slot { slots.removeValue(forKey: address) }
        }
        metrics.recordHibernation("deleted")
        logger.info("room deleted", metadata: ["room": "\(address)"])
        for waiter in waiters { waiter.resume(returning: existed) }
    }

    /// Deletes the rooms of kinds with a `ttl` that nobody touched for that long, that are not in
    /// memory, and that have no pending schedule (a schedule is a promise to run later: a
    /// scheduled message must not vanish with its room). Returns how many were deleted.
    ///
    /// A node running alone; in a cluster, see ``expireClusterRooms()``.
    @discardableResult
    func expireRooms(now: Int64 = WallClock.millisecondsSince1970()) -> Int {
        guard configuration.owners == nil else { return 0 }
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
            for address in candidates where expireIfUnused(address, of: kind) { expired += 1 }
        }
        return expired
    }

    /// Starts a round of ``expireClusterRooms(now:)`` unless one is running.
    func expireClusterRooms() {
        guard !expiring.exchange(true, ordering: .acquiring) else { return }
        Task {
            await expireClusterRooms(now: WallClock.millisecondsSince1970())
            expiring.store(false, ordering: .releasing)
        }
    }

    /// In a cluster: deletes the rooms of kinds with a `ttl` that the cluster's directory says
    /// nobody touched for that long and that have no schedule, among those no other live node
    /// owns. Each is taken first (as an activation would), so that no other node serves it while
    /// its file goes; one this node has in memory, or touched since its last copy to the cluster's
    /// directory, is in use and kept. Returns how many were deleted.
    ///
    /// A room another node owns is that node's to expire: only it knows whether it is in use.
    @discardableResult
    func expireClusterRooms(now: Int64) async -> Int {
        guard let owners = configuration.owners, let mirror = configuration.directoryMirror else { return 0 }
        flushDirectory()
        var expired = 0
        for kind in configuration.kinds.values {
            guard let ttl = kind.ttl else { continue }
            let since = now - ttl.milliseconds
            let candidates: [RoomAddress]
            do {
                candidates = try await mirror.untouched(kind: kind.name, since: since, limit: 1_000)
            } catch {
                logger.error("cannot read the cluster's directory for expiry", metadata: ["error": "\(error)"])
                continue
            }
            for address in candidates where !isStopping {
                // What this node knows and has not copied yet is newer than the cluster's row.
                if let entry = try? directory.entry(for: address), entry.lastActiveAt >= since { continue }
                guard slots.withLock({ $0[address] == nil }), case .owned = await owners.acquire(address) else { continue }
                if expireIfUnused(address, of: kind) { expired += 1 }
            }
        }
        return expired
    }

    /// Deletes `address` if nothing uses it: not in memory, no activity waiting for the directory,
    /// no schedule.
    private func expireIfUnused(_ address: RoomAddress, of kind: RoomKind) -> Bool {
        guard !directory.hasPendingActivity(address), alarms.due(for: address) == nil else { return false }
        // Only a room with no slot is claimed: one in memory is in use.
        let claimed: RoomSlot? = slots.withLock { slots in
            guard slots[address] == nil else { return nil }
            let slot = RoomSlot(
                address: address, kind: kind, shard: router.shard(for: address), mailboxLimit: configuration.maxQueuedEvents)
            guard slot.claimForExpiry() else { return nil }
            slots[address] = slot
            return slot
        }
        guard let claimed else { return false }
        finishDeletion(of: claimed, existed: true)
        return true
    }
}
