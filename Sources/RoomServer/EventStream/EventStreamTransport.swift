import DequeModule
import NIOCore
@_spi(Node) import RoomRuntime
import Synchronization

/// The queue between a room (on its shard) and one Server-Sent Events response (its body's task).
///
/// Rooms never wait for a client: `send` appends and returns. The response's task takes
/// everything queued at once (``next()``) and writes it as one buffer: under load a stream costs
/// one wake-up and one write per batch, not per frame (per frame, 1,000 streams held a tenth of
/// what 1,000 WebSockets did). Like a WebSocket's ``Outbox`` it is bounded: a client that falls
/// `limit` frames behind is ended with the close it would get on a WebSocket (1013,
/// `slow_consumer`), and can reconnect and resume from its last event's id.
final class EventStreamTransport: OpenConnection {
    /// What the response writes.
    enum Item: Sendable {
        case frame(OutboundFrame)
        /// The stream's last event: the close a WebSocket would get.
        case close(CloseCode, String)
        /// The stream has been quiet: a comment keeps it alive.
        case keepAlive
    }

    private struct State {
        var items = Deque<Item>()
        /// Frames queued and not taken yet.
        var queued = 0
        /// A close is queued (or the response is over): nothing more is accepted.
        var ended = false
        /// The response's task, waiting for items.
        var waiter: CheckedContinuation<Deque<Item>?, Never>?
    }

    /// The most frames waiting for the client.
    let limit: Int
    private let state = Mutex(State())

    init(limit: Int) {
        self.limit = limit
    }

    func send(_ frame: OutboundFrame) {
        enqueue { state in
            guard state.queued < limit else {
                state.ended = true
                return .close(.tryAgainLater, "slow_consumer")
            }
            state.queued += 1
            return .frame(frame)
        }
    }

    func close(code: CloseCode, reason: String) {
        enqueue { state in
            state.ended = true
            return .close(code, reason)
        }
    }

    /// Asks for a keep-alive comment (nothing if the stream ended).
    func keepAlive() {
        enqueue { _ in .keepAlive }
    }

    /// Queues the item `make` returns (with the lock held), unless the stream ended, and wakes the
    /// response if it waits.
    private func enqueue(_ make: (inout State) -> Item) {
        let woken: (CheckedContinuation<Deque<Item>?, Never>, Deque<Item>)? = state.withLock { state in
            guard !state.ended else { return nil }
            state.items.append(make(&state))
            guard let waiter = state.waiter else { return nil }
            state.waiter = nil
            return (waiter, take(&state))
        }
        if let (waiter, items) = woken { waiter.resume(returning: items) }
    }

    /// Everything queued, in order, once there is something; nil once the stream is over and
    /// drained (or the task was cancelled).
    func next() async -> Deque<Item>? {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Deque<Item>?, Never>) in
                let ready: Deque<Item>?? = state.withLock { state in
                    if !state.items.isEmpty { return .some(take(&state)) }
                    if state.ended || Task.isCancelled { return .some(nil) }
                    state.waiter = continuation
                    return nil
                }
                if let ready { continuation.resume(returning: ready) }
            }
        } onCancel: {
            end()
        }
    }

    private func take(_ state: inout State) -> Deque<Item> {
        defer {
            state.items = Deque()
            state.queued = 0
        }
        return state.items
    }

    var isClosing: Bool { state.withLock { $0.ended } }

    /// Nothing: a stream has its own keep-alive.
    func heartbeat() {}

    /// The response is over (the client went away): later frames are dropped, and a waiting
    /// ``next()`` returns nil.
    func end() {
        let waiter = state.withLock { state in
            state.ended = true
            state.items.removeAll()
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume(returning: nil)
    }
}
