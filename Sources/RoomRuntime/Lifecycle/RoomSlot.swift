import DequeModule
import Synchronization

/// What the runtime keeps about one room while the room has a reason to be in memory: its
/// mailbox, its open connections and its lifecycle phase.
///
/// The slot outlives the room's live instance: a hibernated room has a slot (holding its open
/// connections) but no ``RoomContext``. A slot is dropped when its room hibernates with no
/// connection and no queued event.
final class RoomSlot: Sendable {
    enum Phase: Sendable, Equatable {
        /// Not in memory; the next event activates it.
        case hibernated
        /// Admitted and opening its file, or waiting for room under the active-room cap.
        case activating
        /// Live: its turn loop handles the mailbox.
        case active
        /// Running its hibernate hook and closing its file.
        case hibernating
        /// Being deleted: its file and directory row are going; events wait to be refused.
        case deleting
        /// Dropped from the runtime's table; a new slot serves the room.
        case removed
    }

    /// Why a room is asked to hibernate.
    enum HibernationReason: Sendable, Equatable {
        /// Nothing happened for the idle timeout. Cancelled by the next event.
        case idle
        /// The active-room cap or the open-database budget needs its place.
        case capacity
        /// The node is stopping.
        case shutdown
        /// The room is being deleted: no hook runs, and it does not come back.
        case deleting
    }

    /// What ``requestDeletion(_:)`` found.
    enum DeletionStart: Sendable, Equatable {
        /// The room is out of memory and now `deleting`: the caller deletes it.
        case deleteNow
        /// The room is live (or already being deleted): the deletion completes the waiter later.
        case willComplete
        /// The slot was removed: look the room up again.
        case slotRemoved
    }

    /// What the turn loop should do next.
    enum Step: Sendable {
        case event(RoomEvent)
        case idle
        case hibernate(HibernationReason)
    }

    /// What became of an event offered to the slot.
    enum Delivery: Sendable, Equatable {
        /// Queued; the room is live or activating.
        case queued
        /// Queued, and the caller must start the room's activation.
        case mustActivate
        /// The slot was removed: look the room up again.
        case slotRemoved
    }

    private struct State: Sendable {
        var phase = Phase.hibernated
        var mailbox = Deque<RoomEvent>()
        var waiter: CheckedContinuation<Void, Never>?
        var hibernation: HibernationReason?
        var signalled = false
        var deletionWaiters: [CheckedContinuation<Bool?, Never>] = []
        var connections: [RoomConnection] = []
        var lastSequence: Int64?
        var keepsActive = false
    }

    let address: RoomAddress
    let kind: RoomKind
    let shard: Shard
    private let state = Mutex(State())

    init(address: RoomAddress, kind: RoomKind, shard: Shard) {
        self.address = address
        self.kind = kind
        self.shard = shard
    }

    // MARK: - Mailbox

    /// Queues `event`, waking the room's turn loop, or asks the caller to activate the room.
    func deliver(_ event: RoomEvent) -> Delivery {
        let (delivery, waiter): (Delivery, CheckedContinuation<Void, Never>?) = state.withLock { state in
            switch state.phase {
            case .removed:
                return (.slotRemoved, nil)
            case .hibernated:
                state.mailbox.append(event)
                state.phase = .activating
                return (.mustActivate, nil)
            case .deleting:
                state.mailbox.append(event)
                return (.queued, nil)
            case .activating, .active, .hibernating:
                state.mailbox.append(event)
                if state.hibernation == .idle { state.hibernation = nil }
                defer { state.waiter = nil }
                return (.queued, state.waiter)
            }
        }
        waiter?.resume()
        return delivery
    }

    /// Queues `event` only if the room is active, without ever activating it; false otherwise.
    func deliverIfActive(_ event: RoomEvent) -> Bool {
        let (queued, waiter): (Bool, CheckedContinuation<Void, Never>?) = state.withLock { state in
            guard state.phase == .active else { return (false, nil) }
            state.mailbox.append(event)
            if state.hibernation == .idle { state.hibernation = nil }
            defer { state.waiter = nil }
            return (true, state.waiter)
        }
        waiter?.resume()
        return queued
    }

    /// The turn loop's next step: the oldest queued event first, then a pending hibernation.
    func nextStep() -> Step {
        state.withLock { state in
            if let event = state.mailbox.popFirst() { return .event(event) }
            if let reason = state.hibernation {
                state.phase = .hibernating
                return .hibernate(reason)
            }
            return .idle
        }
    }

    /// The oldest queued event, if any, ignoring hibernation (for a turn waiting in a call).
    func nextEvent() -> RoomEvent? {
        state.withLock { $0.mailbox.popFirst() }
    }

    /// Suspends the turn loop until an event arrives, hibernation is requested (unless
    /// `ignoringHibernation`: a turn waiting in a call), or ``signal()``.
    func park(ignoringHibernation: Bool = false) async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let resumeNow = state.withLock { state in
                if state.signalled {
                    state.signalled = false
                    return true
                }
                if !state.mailbox.isEmpty || (state.hibernation != nil && !ignoringHibernation) { return true }
                state.waiter = continuation
                return false
            }
            if resumeNow { continuation.resume() }
        }
    }

    /// Wakes the parked turn loop (a call's answer arrived), or makes its next park return at once.
    func signal() {
        let waiter: CheckedContinuation<Void, Never>? = state.withLock { state in
            guard let waiter = state.waiter else {
                state.signalled = true
                return nil
            }
            state.waiter = nil
            return waiter
        }
        waiter?.resume()
    }

    /// Asks the live room to hibernate once its mailbox is empty. Ignored when not live.
    func requestHibernation(_ reason: HibernationReason) {
        let waiter: CheckedContinuation<Void, Never>? = state.withLock { state in
            guard state.phase == .active || state.phase == .activating else { return nil }
            // A stronger reason replaces a weaker one: idle < capacity < shutdown < deleting.
            switch (state.hibernation, reason) {
            case (nil, _), (.idle, _), (.capacity, .shutdown), (.capacity, .deleting), (.shutdown, .deleting):
                state.hibernation = reason
            default: break
            }
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume()
    }

    /// The room's turn loop is running.
    func markActive() {
        state.withLock { $0.phase = .active }
    }

    /// The room left memory. Returns `reactivate: true` when events arrived meanwhile (the
    /// caller activates it again at once; the phase is then `activating`), and the reason it was
    /// hibernating for, if it was asked to.
    func finishHibernation() -> (reactivate: Bool, reason: HibernationReason?) {
        state.withLock { state in
            state.waiter = nil
            let reason = state.hibernation
            state.hibernation = nil
            if !state.deletionWaiters.isEmpty {
                state.phase = .deleting
                return (false, .deleting)
            }
            if reason != .shutdown, !state.mailbox.isEmpty {
                state.phase = .activating
                return (true, reason)
            }
            state.phase = .hibernated
            return (false, reason)
        }
    }

    /// Asks for the room's deletion; `waiter` learns whether the room existed once it is done.
    func requestDeletion(_ waiter: CheckedContinuation<Bool?, Never>) -> DeletionStart {
        let (start, loop): (DeletionStart, CheckedContinuation<Void, Never>?) = state.withLock { state in
            switch state.phase {
            case .removed:
                return (.slotRemoved, nil)
            case .hibernated:
                state.phase = .deleting
                state.deletionWaiters.append(waiter)
                return (.deleteNow, nil)
            case .deleting, .hibernating, .activating, .active:
                state.deletionWaiters.append(waiter)
                if state.phase == .activating || state.phase == .active { state.hibernation = .deleting }
                defer { state.waiter = nil }
                return (.willComplete, state.waiter)
            }
        }
        loop?.resume()
        return start
    }

    /// Claims an unused slot for deletion (TTL expiry): true when it was hibernated with nothing
    /// queued and no connection, and is now `deleting`.
    func claimForExpiry() -> Bool {
        state.withLock { state in
            guard state.phase == .hibernated, state.connections.isEmpty, state.mailbox.isEmpty else { return false }
            state.phase = .deleting
            return true
        }
    }

    /// Ends a deletion: the slot is removed; returns the queued events to refuse, the connections
    /// to close and the waiters to tell.
    func finishDeletion() -> (events: [RoomEvent], connections: [RoomConnection], waiters: [CheckedContinuation<Bool?, Never>]) {
        state.withLock { state in
            defer {
                state.mailbox.removeAll()
                state.connections.removeAll()
                state.deletionWaiters.removeAll()
                state.phase = .removed
            }
            return (Array(state.mailbox), state.connections, state.deletionWaiters)
        }
    }

    /// Takes every queued event out (after a failed activation, or at shutdown).
    func drainMailbox() -> [RoomEvent] {
        state.withLock { state in
            defer { state.mailbox.removeAll() }
            return Array(state.mailbox)
        }
    }

    /// Marks the slot removed if it holds nothing worth keeping: hibernated, no connection, no
    /// queued event. Called with the runtime's table lock held.
    func removeIfUnused() -> Bool {
        state.withLock { state in
            guard state.phase == .hibernated, state.connections.isEmpty, state.mailbox.isEmpty else { return false }
            state.phase = .removed
            return true
        }
    }

    // MARK: - Observed state

    var phase: Phase { state.withLock { $0.phase } }

    /// Whether the room is in memory (activating, active or hibernating).
    var isLive: Bool {
        switch phase {
        case .activating, .active, .hibernating: true
        case .hibernated, .deleting, .removed: false
        }
    }

    /// Whether the room asked to stay in memory while idle (``RoomContext/keepsActive``).
    var keepsActive: Bool {
        get { state.withLock { $0.keepsActive } }
        set { state.withLock { $0.keepsActive = newValue } }
    }

    // MARK: - Connections

    /// The open connections, in the order they joined.
    var connections: [RoomConnection] { state.withLock { $0.connections } }

    var connectionCount: Int { state.withLock { $0.connections.count } }

    func addConnection(_ connection: RoomConnection) {
        state.withLock { $0.connections.append(connection) }
    }

    /// Removes `connection`; returns false when it was not there.
    @discardableResult
    func removeConnection(_ connection: RoomConnection) -> Bool {
        state.withLock { state in
            guard let index = state.connections.firstIndex(where: { $0 === connection }) else { return false }
            state.connections.remove(at: index)
            return true
        }
    }

    func contains(_ connection: RoomConnection) -> Bool {
        state.withLock { state in state.connections.contains { $0 === connection } }
    }

    // MARK: - Sequence

    /// The room's last committed sequence number, when known.
    var lastSequence: Int64? {
        get { state.withLock { $0.lastSequence } }
        set { state.withLock { $0.lastSequence = newValue } }
    }
}
