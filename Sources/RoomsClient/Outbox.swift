/// Sends waiting for their ack, in the order they were made: each with its frame (resent as it
/// is, same `id`, after every welcome) and the callers waiting for its answer.
struct Outbox {
    typealias Waiter = CheckedContinuation<Result<Ack, RoomsError>, Never>

    private struct Entry {
        let frame: String
        var waiters: [Waiter]
    }

    private var order: [String] = []
    private var entries: [String: Entry] = [:]

    /// How many sends wait.
    var count: Int { order.count }

    /// The waiting sends' frames, oldest first.
    var frames: [String] { order.compactMap { entries[$0]?.frame } }

    func contains(_ id: String) -> Bool { entries[id] != nil }

    /// Adds a send, or one more caller waiting for a send already there.
    mutating func add(id: String, frame: String, waiter: Waiter) {
        if entries[id] != nil {
            entries[id]?.waiters.append(waiter)
        } else {
            order.append(id)
            entries[id] = Entry(frame: frame, waiters: [waiter])
        }
    }

    /// Settles the send `id` with `result`; false when no such send waits.
    @discardableResult
    mutating func settle(_ id: String, with result: Result<Ack, RoomsError>) -> Bool {
        guard let entry = entries.removeValue(forKey: id) else { return false }
        if order.first == id {
            order.removeFirst()
        } else if let index = order.firstIndex(of: id) {
            order.remove(at: index)
        }
        for waiter in entry.waiters { waiter.resume(returning: result) }
        return true
    }

    /// Fails every waiting send with `error` and empties the outbox.
    mutating func failAll(_ error: RoomsError) {
        for id in order { settle(id, with: .failure(error)) }
    }
}
