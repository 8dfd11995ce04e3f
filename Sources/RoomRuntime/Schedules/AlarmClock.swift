import HeapModule
import Synchronization

/// The node's one timer for every room's schedules.
///
/// Each room reports the due time of its earliest schedule; the clock wakes at the earliest of
/// all, and hands the rooms that are due an alarm (waking hibernated ones). A room keeps only its
/// latest report: entries replaced in the heap are skipped when they surface.
final class AlarmClock: Sendable {
    private struct Entry: Comparable {
        let due: Int64
        let address: RoomAddress

        static func < (lhs: Entry, rhs: Entry) -> Bool {
            (lhs.due, lhs.address.path) < (rhs.due, rhs.address.path)
        }
    }

    private struct State {
        var due: [RoomAddress: Int64] = [:]
        var heap = Heap<Entry>()
        var sleeper: Task<Void, Never>?
        var wakeAt: Int64?
    }

    /// The longest sleep when nothing is due, so that the clock's view of time never drifts far.
    static let maxSleep: Int64 = 60_000

    private let state = Mutex(State())

    /// The number of rooms with an alarm set.
    var count: Int { state.withLock { $0.due.count } }

    /// The alarm of `address`, if set.
    func due(for address: RoomAddress) -> Int64? {
        state.withLock { $0.due[address] }
    }

    /// Sets the alarm of `address` to `due` (milliseconds since 1970), or clears it.
    func set(_ address: RoomAddress, due: Int64?) {
        let earlier: Task<Void, Never>? = state.withLock { state in
            guard state.due[address] != due else { return nil }
            state.due[address] = due
            guard let due else { return nil }
            state.heap.insert(Entry(due: due, address: address))
            guard let wakeAt = state.wakeAt, due < wakeAt else { return nil }
            return state.sleeper
        }
        earlier?.cancel()
    }

    /// Runs until cancelled, calling `fire` with every room whose alarm falls due.
    func run(fire: @Sendable (RoomAddress) -> Void) async {
        while !Task.isCancelled {
            let now = WallClock.millisecondsSince1970()
            let (due, sleeper): ([RoomAddress], Task<Void, Never>) = state.withLock { state in
                var due: [RoomAddress] = []
                var next: Int64?
                while let top = state.heap.min {
                    guard state.due[top.address] == top.due else {
                        state.heap.removeMin()  // replaced or cleared since
                        continue
                    }
                    guard top.due <= now else {
                        next = top.due
                        break
                    }
                    state.heap.removeMin()
                    state.due[top.address] = nil
                    due.append(top.address)
                }
                let delay = min(max(0, (next ?? .max) - now), Self.maxSleep)
                let sleeper = Task { _ = try? await Task.sleep(for: .milliseconds(delay)) }
                state.sleeper = sleeper
                state.wakeAt = now + delay
                return (due, sleeper)
            }
            for address in due { fire(address) }
            await withTaskCancellationHandler {
                await sleeper.value
            } onCancel: {
                sleeper.cancel()
            }
        }
    }
}
