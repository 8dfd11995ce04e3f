import DequeModule
import RoomRuntime
import Synchronization

/// The bounded queue between the rooms (on shard threads) and one WebSocket's writer task.
///
/// Rooms never wait for a socket: `send` appends and returns. A client that reads too slowly
/// lets its queue fill; at the limit the queue is dropped and the connection is closed with 1013
/// (try again later), so that one slow client never holds memory or slows anyone else. It can
/// reconnect and catch up from history.
final class Outbox: ConnectionTransport {
    enum Item: Sendable {
        case frame(OutboundFrame)
        case close(CloseCode, String)
    }

    private struct State {
        var items = Deque<Item>()
        var waiter: CheckedContinuation<[Item]?, Never>?
        var closing = false
        var finished = false
    }

    /// The most frames waiting for one connection.
    let limit: Int
    private let state = Mutex(State())
    private let onClose: @Sendable () -> Void

    /// - Parameter onClose: called once, when a close is queued (asked for, or after an
    ///   overflow), so that the session can cut a connection whose close cannot be written.
    init(limit: Int, onClose: @escaping @Sendable () -> Void = {}) {
        self.limit = limit
        self.onClose = onClose
    }

    func send(_ frame: OutboundFrame) {
        enqueue(.frame(frame))
    }

    func close(code: CloseCode, reason: String) {
        enqueue(.close(code, reason))
    }

    private func enqueue(_ item: Item) {
        let (wake, closing): ((CheckedContinuation<[Item]?, Never>, [Item])?, Bool) = state.withLock { state in
            guard !state.finished, !state.closing else { return (nil, false) }
            if case .close = item { state.closing = true }
            if state.items.count >= limit {
                state.items.removeAll()
                state.items.append(.close(.tryAgainLater, "slow_consumer"))
                state.closing = true
            } else {
                state.items.append(item)
            }
            guard let waiter = state.waiter else { return (nil, state.closing) }
            state.waiter = nil
            defer { state.items.removeAll(keepingCapacity: true) }
            return ((waiter, Array(state.items)), state.closing)
        }
        if let (waiter, items) = wake { waiter.resume(returning: items) }
        if closing { onClose() }
    }

    /// Everything queued, waiting while the queue is empty; nil once finished.
    func next() async -> [Item]? {
        await withCheckedContinuation { (continuation: CheckedContinuation<[Item]?, Never>) in
            let ready: [Item]?? = state.withLock { state in
                if !state.items.isEmpty {
                    defer { state.items.removeAll(keepingCapacity: true) }
                    return .some(Array(state.items))
                }
                if state.finished { return .some(nil) }
                state.waiter = continuation
                return nil
            }
            if let ready { continuation.resume(returning: ready) }
        }
    }

    /// Ends the queue: later frames are dropped, and `next` returns nil once drained.
    func finish() {
        let waiter: CheckedContinuation<[Item]?, Never>? = state.withLock { state in
            state.finished = true
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume(returning: nil)
    }
}
