import Synchronization

/// The node's long polls: waiters for a room to store something past a sequence number.
///
/// A waiter does not keep its room in memory or hold a connection: it is a row here, keyed by the
/// room's address, that the room's commit wakes (``RoomHost/sequenceAdvanced(_:to:)``) within the
/// commit's own turn. A caller registers first, then reads what is already stored, then waits:
/// a commit between the read and the wait still wakes it.
@_spi(Node)
public final class SequenceWatchers: Sendable {
    private let waiters = Mutex<[RoomAddress: [SequenceWaiter]]>([:])
    /// How many waiters are registered: a commit looks at the table only when some are.
    private let registered = Atomic(0)

    /// The number of waiters registered.
    public var count: Int { registered.load(ordering: .relaxed) }

    /// Registers a waiter for `address` to store past `after`; it must be waited on or cancelled.
    public func register(_ address: RoomAddress, after: Int64) -> SequenceWaiter {
        let waiter = SequenceWaiter(address: address, after: after)
        waiters.withLock { $0[address, default: []].append(waiter) }
        registered.add(1, ordering: .relaxed)
        return waiter
    }

    /// Removes `waiter` (after its wait ended, however it ended).
    public func remove(_ waiter: SequenceWaiter) {
        let removed: Bool = waiters.withLock { table in
            guard var list = table[waiter.address], let index = list.firstIndex(where: { $0 === waiter }) else {
                return false
            }
            list.remove(at: index)
            table[waiter.address] = list.isEmpty ? nil : list
            return true
        }
        if removed { registered.subtract(1, ordering: .relaxed) }
        waiter.fire(.expired)
    }

    /// `address` committed up to `sequence`: wakes its waiters that had seen less.
    func advanced(_ address: RoomAddress, to sequence: Int64) {
        guard registered.load(ordering: .relaxed) > 0 else { return }
        let woken: [SequenceWaiter] = waiters.withLock { table in
            guard let list = table[address] else { return [] }
            let (woken, kept) = (list.filter { $0.after < sequence }, list.filter { $0.after >= sequence })
            table[address] = kept.isEmpty ? nil : kept
            return woken
        }
        guard !woken.isEmpty else { return }
        registered.subtract(woken.count, ordering: .relaxed)
        for waiter in woken { waiter.fire(.advanced) }
    }

    /// Ends the waits of `address` (the room was deleted: ``SequenceWaiter/Outcome/deleted``), or
    /// of every room (the node stops: ``SequenceWaiter/Outcome/stopping``).
    func wakeAll(_ address: RoomAddress? = nil) {
        let woken: [SequenceWaiter] = waiters.withLock { table in
            if let address { return table.removeValue(forKey: address) ?? [] }
            defer { table.removeAll() }
            return table.values.flatMap { $0 }
        }
        registered.subtract(woken.count, ordering: .relaxed)
        for waiter in woken { waiter.fire(address == nil ? .stopping : .deleted) }
    }
}
