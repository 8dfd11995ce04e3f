import DequeModule
import Synchronization

/// The rooms in memory, in least-recently-used order, under a cap.
///
/// Every live room holds an open database (3 file descriptors in WAL mode), so the cap is the
/// smaller of the active-room limit and the open-database budget. An activation beyond the cap
/// waits, and asks the least recently used room that is not already leaving to hibernate; the
/// first room to leave hands its place to the longest waiter.
final class ActiveRooms: Sendable {
    /// The most rooms in memory at once.
    let capacity: Int

    private struct Entry {
        let slot: RoomSlot
        var lastUsed: ContinuousClock.Instant
        var asked = false
    }

    private struct State {
        var order = LRUList<RoomAddress>()
        var entries: [RoomAddress: Entry] = [:]
        var waiters = Deque<(RoomSlot, CheckedContinuation<Void, Never>)>()
        /// Rooms waiting in calls to other rooms, with how many calls each: they do not count
        /// against the cap and are never asked to leave, so that the rooms they call can come in.
        var calling: [RoomAddress: Int] = [:]

        /// Whether a room may come in without another leaving.
        func hasRoom(under capacity: Int) -> Bool {
            entries.count - calling.count < capacity
        }

        mutating func insert(_ slot: RoomSlot) {
            entries[slot.address] = Entry(slot: slot, lastUsed: .now)
            order.touch(slot.address)
        }

        /// The least recently used room not yet asked to leave, marked as asked.
        mutating func pickVictim() -> RoomSlot? {
            var victim: RoomAddress?
            order.forEachFromOldest { address in
                if entries[address]?.asked == false, calling[address] == nil {
                    victim = address
                    return false
                }
                return true
            }
            guard let victim else { return nil }
            entries[victim]!.asked = true
            return entries[victim]!.slot
        }
    }

    private let state = Mutex(State())

    init(capacity: Int) {
        precondition(capacity > 0, "the active-room cap must be positive")
        self.capacity = capacity
    }

    /// The number of rooms in memory (including those activating).
    var count: Int { state.withLock { $0.entries.count } }

    /// The number of activations waiting for a place.
    var waiting: Int { state.withLock { $0.waiters.count } }

    /// Takes a place for `slot`, waiting for one (and evicting) when the cap is reached.
    func admit(_ slot: RoomSlot) async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let victim: RoomSlot? = state.withLock { state in
                if state.hasRoom(under: capacity) {
                    state.insert(slot)
                    continuation.resume()
                    return nil
                }
                state.waiters.append((slot, continuation))
                return state.pickVictim()
            }
            victim?.requestHibernation(.capacity)
        }
    }

    /// `slot`'s room starts waiting in a call: its place goes to the longest waiter, if any, so
    /// that the room it calls can be activated even at the cap.
    func beginCall(_ slot: RoomSlot) {
        let admitted: CheckedContinuation<Void, Never>? = state.withLock { state in
            guard state.entries[slot.address] != nil else { return nil }
            state.calling[slot.address, default: 0] += 1
            guard state.hasRoom(under: capacity), let (next, continuation) = state.waiters.popFirst() else {
                return nil
            }
            state.insert(next)
            return continuation
        }
        admitted?.resume()
    }

    /// `slot`'s call ended: it counts against the cap again (the next admission evicts if the
    /// node is over it).
    func endCall(_ slot: RoomSlot) {
        state.withLock { state in
            guard let depth = state.calling[slot.address] else { return }
            state.calling[slot.address] = depth > 1 ? depth - 1 : nil
        }
    }

    /// Gives back `slot`'s place, to the longest waiter if any. When rooms back from calls keep
    /// the node over its cap, the waiter waits on, and another room is asked to leave.
    func release(_ slot: RoomSlot) {
        let victim: RoomSlot? = state.withLock { state in
            guard state.entries.removeValue(forKey: slot.address) != nil else { return nil }
            state.order.remove(slot.address)
            state.calling.removeValue(forKey: slot.address)
            guard !state.waiters.isEmpty else { return nil }
            guard state.hasRoom(under: capacity) else { return state.pickVictim() }
            let (next, continuation) = state.waiters.removeFirst()
            state.insert(next)
            continuation.resume()
            return nil
        }
        victim?.requestHibernation(.capacity)
    }

    /// Records that `slot` was just used.
    func touch(_ slot: RoomSlot) {
        state.withLock { state in
            guard state.entries[slot.address] != nil else { return }
            state.entries[slot.address]!.lastUsed = .now
            state.order.touch(slot.address)
        }
    }

    /// The rooms unused since before `deadline`, oldest first.
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
