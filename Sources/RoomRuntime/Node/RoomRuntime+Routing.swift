import Synchronization
import Logging
extension RoomRuntime {
    static let shuttingDown = RoomError.unavailable(.shuttingDown, "the server is shutting down")
    static let deleted = RoomError.notFound(.roomDeleted, "the room was deleted")
    static let overloaded = RoomError.unavailable(
        .roomOverloaded, "the room has more requests queued than it takes; retry shortly")
    static let quarantined = RoomError.unavailable(
        .roomUnavailable, "the room's file cannot be opened; the node retries it with backoff")

    /// Whether the runtime is stopping: new events are refused, live rooms hibernate once idle.
    var isStopping: Bool { stopping.load(ordering: .acquiring) }

    /// The slot for `address`, created if absent.
    ///
    /// - Throws: ``RoomError`` `unknown_kind` when the address's kind is not configured.
    func slot(for address: RoomAddress) throws(RoomError) -> RoomSlot {
        guard let kind = configuration.kinds[address.kind] else {
            throw .notFound(.unknownKind, "kind '\(address.kind)' is not configured on this node")
        }
        return slot(for: address, kind: kind)
    }

    func slot(for address: RoomAddress, kind: RoomKind) -> RoomSlot {
        slots.withLock { slots in
            if let slot = slots[address] { return slot }
            let slot = RoomSlot(
                address: address, kind: kind, shard: router.shard(for: address),
                mailboxLimit: configuration.maxQueuedEvents)
            slots[address] = slot
            return slot
        }
    }

    /// Where an event went.
    struct Routed {
        /// The slot that took it (a fresh one if the first was removed meanwhile).
        let slot: RoomSlot
        /// The room's mailbox is at its bound: the sender should wait before sending more.
        let mailboxFull: Bool
    }

    /// Queues `event` in `slot`'s mailbox, activating the room when it is not in memory, or
    /// refuses it (answering its sender) when the node is stopping, the room is quarantined or
    /// deleted, or a request finds the mailbox full.
    @discardableResult
    func deliver(_ event: RoomEvent, to slot: RoomSlot) -> Routed {
        // A connection forwarded to its room's node: its events follow it there, in order.
        switch event {
        case .message(let connection, let message):
            if let route = connection.route {
                route.send(message, of: connection)
                return Routed(slot: slot, mailboxFull: false)
            }
        case .disconnect(let connection):
            if let route = connection.route {
                route.close(connection)
                slot.forwardedConnectionClosed()
                slots.withLock { slots in
                    if slot.removeIfUnused() { slots.removeValue(forKey: slot.address) }
                }
                return Routed(slot: slot, mailboxFull: false)
            }
        default:
            break
        }
        if isStopping {
            // A closing socket still leaves its room: a live room runs `onClose`, a hibernated
            // one just forgets the connection (it is not woken up to stop).
            if case .disconnect(let connection) = event, !slot.isLive {
                slot.removeConnection(connection)
                return Routed(slot: slot, mailboxFull: false)
            }
            if case .disconnect = event {} else {
                event.reject(with: Self.shuttingDown)
                return Routed(slot: slot, mailboxFull: false)
            }
        }
        if quarantine.isHeld(slot.address), !slot.isLive {
            if case .disconnect(let connection) = event {
                slot.removeConnection(connection)
            } else if case .alarm = event {
                // The room's schedules wait for it to open: ask again after a while.
                alarms.set(slot.address, due: WallClock.millisecondsSince1970() + 5_000)
            } else {
                event.reject(with: Self.quarantined)
            }
            return Routed(slot: slot, mailboxFull: false)
        }
        switch slot.deliver(event) {
        case .queued(let full):
            return Routed(slot: slot, mailboxFull: full)
        case .mustActivate:
            startActivation(of: slot)
            return Routed(slot: slot, mailboxFull: false)
        case .overloaded:
            event.reject(with: Self.overloaded)
            return Routed(slot: slot, mailboxFull: true)
        case .forwarded:
            return Routed(slot: slot, mailboxFull: false)
        case .slotRemoved:
            switch event {
            case .message, .disconnect, .job:
                // The connection's room was deleted (or never accepted it), or the activation
                // that queued the job is gone: no room is brought back to life for it.
                event.reject(with: Self.deleted)
                return Routed(slot: slot, mailboxFull: false)
            case .connect, .request, .alarm:
                // The slot hibernated and was dropped between lookup and delivery; a fresh slot
                // takes the event.
                return deliver(event, to: self.slot(for: slot.address, kind: slot.kind))
            }
        }
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
}
