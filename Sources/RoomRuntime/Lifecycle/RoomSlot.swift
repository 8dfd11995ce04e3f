import DequeModule
import Synchronization

/// What the runtime keeps about one room while the room has a reason to be known: its mailbox,
/// its open connections and its phase (see ``RoomPhase`` for the lifecycle).
///
/// The slot outlives the room's live instance: a hibernated room has a slot (holding its open
/// connections) but no ``RoomContext``. Every method is safe from any thread; the turn loop, the
/// server's event loops and the node's housekeeping meet here, under one lock.
final class RoomSlot: Sendable {
    /// What the turn loop should do next.
    enum Step: Sendable {
        case event(RoomEvent)
        case idle
        case hibernate(HibernationReason)
    }

    /// What became of an event offered to the slot.
    enum Delivery: Sendable, Equatable {
        /// Queued; the room is live or activating. `full`: the mailbox is at its bound, and the
        /// sender should wait for ``whenSpace(_:)`` before offering more.
        case queued(full: Bool)
        /// Queued, and the caller must start the room's activation.
        case mustActivate
        /// Not queued: the mailbox is full and the event is one that may be refused (a request).
        case overloaded
        /// The slot was removed: look the room up again.
        case slotRemoved
        /// Handed to the route to the node that owns the room (``forward(to:)``), or refused.
        case forwarded
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

    private struct State: Sendable {
        var phase = RoomPhase.hibernated
        var mailbox = Deque<RoomEvent>()
        /// The parked turn loop.
        var waiter: CheckedContinuation<Void, Never>?
        var hibernation: HibernationReason?
        var signalled = false
        /// The room, waiting in a call, is asked to close its database for another room.
        var releaseRequested = false
        var deletionWaiters: [CheckedContinuation<Bool?, Never>] = []
        /// Readers to call once the mailbox is below its bound (``whenSpace(_:)``).
        var spaceWaiters: [@Sendable () -> Void] = []
        var connections: [RoomConnection] = []
        var lastSequence: Int64?
        var keepsActive = false
        var isMaterialized = false
        /// In a cluster, the route to the node that owns the room, while another node does.
        var route: (any RoomRoute)?
        /// Connections opened over a route and not closed yet.
        var forwardedConnections = 0
    }

    let address: RoomAddress
    let kind: RoomKind
    let shard: Shard
    /// The most events the mailbox holds before requests are refused and readers wait.
    let mailboxLimit: Int
    private let state = Mutex(State())

    init(address: RoomAddress, kind: RoomKind, shard: Shard, mailboxLimit: Int) {
        self.address = address
        self.kind = kind
        self.shard = shard
        self.mailboxLimit = mailboxLimit
    }

    // MARK: - Mailbox

    /// Queues `event`, waking the room's turn loop, or asks the caller to activate the room.
    ///
    /// Requests are refused (``Delivery/overloaded``) once the mailbox holds ``mailboxLimit``
    /// events; client messages are queued anyway (the connection then stops reading until there
    /// is space), and connects, closes, alarms and jobs always are: they are bounded elsewhere.
    func deliver(_ event: RoomEvent) -> Delivery {
        var refused: RoomEvent?
        let (delivery, waiter): (Delivery, CheckedContinuation<Void, Never>?) = state.withLock { state in
            guard state.phase != .removed else { return (.slotRemoved, nil) }
            if let route = state.route {
                // A node forwarding to this one believes this node owns the room: the route is
                // stale, and the event goes through activation, which asks the cluster.
                if route.isOpen, !event.isViaPeer {
                    refused = Self.forward(event, via: route, in: &state)
                    return (.forwarded, nil)
                }
                state.route = nil
            }
            if case .request = event, state.mailbox.count >= mailboxLimit { return (.overloaded, nil) }
            state.mailbox.append(event)
            let full = state.mailbox.count >= mailboxLimit
            switch state.phase {
            case .hibernated:
                state.phase = .activating
                return (.mustActivate, nil)
            case .deleting, .removed:
                return (.queued(full: full), nil)
            case .activating, .active, .hibernating:
                if state.hibernation == .idle { state.hibernation = nil }
                defer { state.waiter = nil }
                return (.queued(full: full), state.waiter)
            }
        }
        waiter?.resume()
        return delivery
    }

    // MARK: - Forwarding

    /// From now on the room's events go to `route` (another node owns the room): the events
    /// queued so far are handed to it first, in order, and no event can pass them, since both
    /// happen under the slot's lock. Returns the events to refuse: those another node forwarded
    /// here (a room is never forwarded twice; that node asks the cluster again).
    func forward(to route: any RoomRoute) -> [RoomEvent] {
        let (refused, readers) = state.withLock { state in
            state.route = route
            var refused: [RoomEvent] = []
            while let event = state.mailbox.popFirst() {
                if event.isViaPeer {
                    refused.append(event)
                } else if let event = Self.forward(event, via: route, in: &state) {
                    refused.append(event)
                }
            }
            defer { state.spaceWaiters.removeAll() }
            return (refused, state.spaceWaiters)
        }
        for reader in readers { reader() }
        return refused
    }

    /// Hands `event` to `route`; returns it when it is to be refused instead.
    private static func forward(_ event: RoomEvent, via route: any RoomRoute, in state: inout State) -> RoomEvent? {
        switch event {
        case .connect(let connection):
            connection.setRoute(route)
            state.forwardedConnections += 1
            route.open(connection)
        case .message(let connection, let message):
            // A connection opened here before the room moved cannot follow it.
            guard let route = connection.route else { return event }
            route.send(message, of: connection)
        case .disconnect(let connection):
            guard let route = connection.route else { return nil }
            state.forwardedConnections -= 1
            route.close(connection)
        case .request(let request, let reply):
            route.request(request, answer: reply.deliver)
        case .alarm, .job:
            // The owner's clock runs the room's schedules; no work runs here for it.
            break
        }
        return nil
    }

    /// Whether an event another node forwarded waits in the mailbox.
    var hasEventsViaPeer: Bool {
        state.withLock { state in state.mailbox.contains { $0.isViaPeer } }
    }

    /// A connection opened over a route closed, and its close was handed to the route.
    func forwardedConnectionClosed() {
        state.withLock { $0.forwardedConnections -= 1 }
    }

    /// Queues `event` only if the room is in memory and not leaving it (activating or active),
    /// without ever activating it; false otherwise. (Work a room starts in `onStart` may report
    /// before activation completes: its jobs wait in the mailbox.)
    func deliverIfActive(_ event: RoomEvent) -> Bool {
        let (queued, waiter): (Bool, CheckedContinuation<Void, Never>?) = state.withLock { state in
            guard state.phase == .active || state.phase == .activating else { return (false, nil) }
            state.mailbox.append(event)
            if state.hibernation == .idle { state.hibernation = nil }
            defer { state.waiter = nil }
            return (true, state.waiter)
        }
        waiter?.resume()
        return queued
    }

    /// Whether the mailbox is below its bound (or the room is gone): true at once, or false after
    /// keeping `ready` to call once it is.
    func whenSpace(_ ready: @escaping @Sendable () -> Void) -> Bool {
        state.withLock { state in
            guard state.mailbox.count >= mailboxLimit, state.phase != .removed else { return true }
            state.spaceWaiters.append(ready)
            return false
        }
    }

    /// The turn loop's next step: the oldest queued event first, then (unless `inCall`) a pending
    /// hibernation.
    func nextStep(inCall: Bool = false) -> Step {
        let (step, readers): (Step, [@Sendable () -> Void]) = state.withLock { state in
            if let event = state.mailbox.popFirst() {
                guard !state.spaceWaiters.isEmpty, state.mailbox.count < mailboxLimit else { return (.event(event), []) }
                defer { state.spaceWaiters.removeAll() }
                return (.event(event), state.spaceWaiters)
            }
            if !inCall, let reason = state.hibernation {
                // An idle sweep may have asked just before a turn that set the room to stay
                // active (it started work outside its turns): that request no longer holds.
                if reason == .idle, state.keepsActive {
                    state.hibernation = nil
                    return (.idle, [])
                }
                state.phase = .hibernating
                return (.hibernate(reason), [])
            }
            return (.idle, [])
        }
        for reader in readers { reader() }
        return step
    }

    /// Suspends the turn loop until an event arrives, hibernation is requested (unless `inCall`),
    /// the room is asked to release its database (only `inCall`), or ``signal()``.
    func park(inCall: Bool = false) async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let resumeNow = state.withLock { state in
                if state.signalled {
                    state.signalled = false
                    return true
                }
                if !state.mailbox.isEmpty { return true }
                if inCall ? state.releaseRequested : state.hibernation != nil { return true }
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
            if reason.outranks(state.hibernation) { state.hibernation = reason }
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume()
    }

    /// Asks the room, waiting in a call, to close its database so that another room can open one.
    func requestDatabaseRelease() {
        let waiter: CheckedContinuation<Void, Never>? = state.withLock { state in
            state.releaseRequested = true
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume()
    }

    /// Takes the pending request to release the database, if any.
    func takeDatabaseReleaseRequest() -> Bool {
        state.withLock { state in
            defer { state.releaseRequested = false }
            return state.releaseRequested
        }
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
            state.releaseRequested = false
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
    func finishDeletion() -> (
        events: [RoomEvent], connections: [RoomConnection], waiters: [CheckedContinuation<Bool?, Never>]
    ) {
        let (result, readers) = state.withLock { state in
            defer {
                state.mailbox.removeAll()
                state.connections.removeAll()
                state.deletionWaiters.removeAll()
                state.spaceWaiters.removeAll()
                state.phase = .removed
            }
            return ((Array(state.mailbox), state.connections, state.deletionWaiters), state.spaceWaiters)
        }
        for reader in readers { reader() }
        return result
    }

    /// Takes every queued event out (after a failed activation, or at shutdown).
    func drainMailbox() -> [RoomEvent] {
        let (events, readers) = state.withLock { state in
            defer {
                state.mailbox.removeAll()
                state.spaceWaiters.removeAll()
            }
            return (Array(state.mailbox), state.spaceWaiters)
        }
        for reader in readers { reader() }
        return events
    }

    /// Marks the slot removed if it holds nothing worth keeping: hibernated, no connection, no
    /// queued event. Called with the runtime's table lock held.
    func removeIfUnused() -> Bool {
        state.withLock { state in
            guard state.phase == .hibernated, state.connections.isEmpty, state.mailbox.isEmpty,
                state.forwardedConnections == 0
            else { return false }
            state.phase = .removed
            return true
        }
    }

    // MARK: - Observed state

    var phase: RoomPhase { state.withLock { $0.phase } }

    /// Whether the room is in memory (activating, active or hibernating).
    var isLive: Bool {
        switch phase {
        case .activating, .active, .hibernating: true
        case .hibernated, .deleting, .removed: false
        }
    }

    /// The number of events waiting in the mailbox.
    var queuedEvents: Int { state.withLock { $0.mailbox.count } }

    /// Whether the room asked to stay in memory while idle (``RoomContext/keepsActive``, or work
    /// it runs outside its turns).
    var keepsActive: Bool {
        get { state.withLock { $0.keepsActive } }
        set { state.withLock { $0.keepsActive = newValue } }
    }

    /// Whether the room exists on disk: it has a file and a directory row (always false for an
    /// ephemeral room, and for one not created yet).
    var isMaterialized: Bool {
        get { state.withLock { $0.isMaterialized } }
        set { state.withLock { $0.isMaterialized = newValue } }
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
