import DequeModule
import Synchronization

/// The rooms in memory, in least-recently-used order, and the places they hold under the cap.
///
/// A *place* is an open database: every live room holds one (3 file descriptors for a file in WAL
/// mode), so the cap is the smaller of the active-room limit and the open-database budget, and it
/// is a hard limit on open room files. An activation beyond the cap waits, and asks the least
/// recently used room that is not already leaving to hibernate; the first place given back goes
/// to the longest waiter.
///
/// A room waiting in a call to another room cannot hibernate, but it need not keep its database
/// open either: when places are short, it is asked to close its file and give its place back, and
/// it waits for a place again (``reacquire(_:)``) before it next touches storage. So rooms that
/// call each other never deadlock on the cap, and the budget holds however many calls are out.
final class ActiveRooms: Sendable {
    /// The most places (open databases) at once.
    let capacity: Int

    private struct Entry {
        let slot: RoomSlot
        var lastUsed: ContinuousClock.Instant
        /// Asked to hibernate for capacity.
        var asked = false
        /// Holds a place (its database is open, or opening).
        var holdsPlace = true
        /// Calls it is waiting in (it cannot hibernate meanwhile).
        var calls = 0
        /// Asked to close its database while it waits in a call.
        var askedToRelease = false
    }

    private struct Waiter {
        let slot: RoomSlot
        let continuation: CheckedContinuation<Void, Never>
        /// A room in memory taking its place back (else a new activation).
        let returning: Bool
    }

    private struct State {
        var order = LRUList<RoomAddress>()
        var entries: [RoomAddress: Entry] = [:]
        var waiters = Deque<Waiter>()
        var placesHeld = 0

        func hasPlace(under capacity: Int) -> Bool {
            placesHeld < capacity
        }

        /// Gives free places to waiters, oldest first; returns their continuations.
        mutating func admitWaiters(under capacity: Int) -> [CheckedContinuation<Void, Never>] {
            var admitted: [CheckedContinuation<Void, Never>] = []
            while hasPlace(under: capacity), let waiter = waiters.popFirst() {
                if waiter.returning {
                    guard entries[waiter.slot.address] != nil else { continue }
                    entries[waiter.slot.address]!.holdsPlace = true
                    entries[waiter.slot.address]!.askedToRelease = false
                } else {
                    entries[waiter.slot.address] = Entry(slot: waiter.slot, lastUsed: .now)
                    order.touch(waiter.slot.address)
                }
                placesHeld += 1
                admitted.append(waiter.continuation)
            }
            return admitted
        }

        /// Picks a room to free a place: the least recently used room not in a call and not yet
        /// asked to leave (it hibernates), else a room waiting in a call that still holds its
        /// database (it closes it). Nil when every place is already on its way back.
        mutating func pickVictim() -> (slot: RoomSlot, inCall: Bool)? {
            var victim: RoomAddress?
            var callVictim: RoomAddress?
            order.forEachFromOldest { address in
                guard let entry = entries[address], entry.holdsPlace else { return true }
                if entry.calls == 0 {
                    if !entry.asked {
                        victim = address
                        return false
                    }
                } else if !entry.askedToRelease, callVictim == nil {
                    callVictim = address
                }
                return true
            }
            if let victim {
                entries[victim]!.asked = true
                return (entries[victim]!.slot, false)
            }
            if let callVictim {
                entries[callVictim]!.askedToRelease = true
                return (entries[callVictim]!.slot, true)
            }
            return nil
        }
    }

    private let state = Mutex(State())

    init(capacity: Int) {
        precondition(capacity > 0, "the active-room cap must be positive")
        self.capacity = capacity
    }

    /// The number of rooms in memory (including those activating, and those in a call that gave
    /// their place back).
    var count: Int { state.withLock { $0.entries.count } }

    /// The number of places held (open or opening databases).
    var placesHeld: Int { state.withLock { $0.placesHeld } }

    /// The number of rooms waiting for a place.
    var waiting: Int { state.withLock { $0.waiters.count } }

    /// Takes a place for `slot`'s activation, waiting for one (and freeing one) at the cap.
    func admit(_ slot: RoomSlot) async {
        await wait(for: slot, returning: false)
    }

    /// Takes a place back for `slot`, in memory and in a call, which gave its place up
    /// (``giveUpPlace(_:)``); waits like an activation when the node is at its cap.
    func reacquire(_ slot: RoomSlot) async {
        await wait(for: slot, returning: true)
    }

    private func wait(for slot: RoomSlot, returning: Bool) async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let victim: (slot: RoomSlot, inCall: Bool)? = state.withLock { state in
                state.waiters.append(Waiter(slot: slot, continuation: continuation, returning: returning))
                let admitted = state.admitWaiters(under: capacity)
                if !admitted.isEmpty {
                    // Only this waiter can have been admitted: the others were waiting for a place.
                    for waiter in admitted { waiter.resume() }
                    return nil
                }
                return state.pickVictim()
            }
            Self.ask(victim)
        }
    }

    private static func ask(_ victim: (slot: RoomSlot, inCall: Bool)?) {
        guard let victim else { return }
        if victim.inCall {
            victim.slot.requestDatabaseRelease()
        } else {
            victim.slot.requestHibernation(.capacity)
        }
    }

    /// `slot`'s room starts waiting in a call.
    func beginCall(_ slot: RoomSlot) {
        state.withLock { state in
            state.entries[slot.address]?.calls += 1
        }
    }

    /// `slot`'s call ended.
    func endCall(_ slot: RoomSlot) {
        state.withLock { state in
            guard let calls = state.entries[slot.address]?.calls, calls > 0 else { return }
            state.entries[slot.address]!.calls = calls - 1
        }
    }

    /// Whether a room is waiting for a place (a room in a call then gives its own up).
    var isContended: Bool { state.withLock { !$0.waiters.isEmpty } }

    /// `slot`'s room, waiting in a call, closed its database: its place goes to the longest waiter.
    func giveUpPlace(_ slot: RoomSlot) {
        let admitted: [CheckedContinuation<Void, Never>] = state.withLock { state in
            guard state.entries[slot.address]?.holdsPlace == true else { return [] }
            state.entries[slot.address]!.holdsPlace = false
            state.placesHeld -= 1
            return state.admitWaiters(under: capacity)
        }
        for waiter in admitted { waiter.resume() }
    }

    /// `slot`'s room left memory: its place goes to the longest waiter. When places are still
    /// short (rooms back from calls took theirs again), another room is asked to leave.
    func release(_ slot: RoomSlot) {
        let (admitted, victim): ([CheckedContinuation<Void, Never>], (slot: RoomSlot, inCall: Bool)?) =
            state.withLock { state in
                guard let entry = state.entries.removeValue(forKey: slot.address) else { return ([], nil) }
                state.order.remove(slot.address)
                if entry.holdsPlace { state.placesHeld -= 1 }
                let admitted = state.admitWaiters(under: capacity)
                guard !state.waiters.isEmpty else { return (admitted, nil) }
                return (admitted, state.pickVictim())
            }
        for waiter in admitted { waiter.resume() }
        Self.ask(victim)
    }

    /// Records that `slot` was just used.
    func touch(_ slot: RoomSlot) {
        state.withLock { state in
            guard state.entries[slot.address] != nil else { return }
            state.entries[slot.address]!.lastUsed = .now
            state.order.touch(slot.address)
        }
    }

    /// The rooms unused since before `deadline`, oldest first, but those that keep themselves
    /// active.
    func unused(since deadline: ContinuousClock.Instant) -> [RoomSlot] {
        state.withLock { state in
            var idle: [RoomSlot] = []
            state.order.forEachFromOldest { address in
                guard let entry = state.entries[address], entry.lastUsed < deadline else { return false }
                if !entry.slot.keepsActive { idle.append(entry.slot) }
                return true
            }
            return idle
        }
    }

    /// Every room in memory.
    var all: [RoomSlot] { state.withLock { $0.entries.values.map(\.slot) } }
}
