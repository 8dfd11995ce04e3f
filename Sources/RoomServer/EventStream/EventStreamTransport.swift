import NIOCore
@_spi(Node) import RoomRuntime
import Synchronization

/// The queue between a room (on its shard) and one Server-Sent Events response (its body's task).
///
/// Rooms never wait for a client: `send` appends and returns. The response's task takes the items
/// in order and writes each as an event. Like a WebSocket's ``Outbox`` it is bounded: a client that
/// falls `limit` frames behind is ended with the close it would get on a WebSocket (1013,
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
        var queued = 0
        var ended = false
    }

    /// The most frames waiting for the client.
    let limit: Int
    /// The items, in order; it finishes after a close.
    let items: AsyncStream<Item>
    private let continuation: AsyncStream<Item>.Continuation
    private let state = Mutex(State())

    init(limit: Int) {
        self.limit = limit
        (items, continuation) = AsyncStream.makeStream(of: Item.self)
    }

    func send(_ frame: OutboundFrame) {
        let accepted: Bool? = state.withLock { state in
            guard !state.ended else { return nil }
            guard state.queued < limit else {
                state.ended = true
                return false
            }
            state.queued += 1
            return true
        }
        switch accepted {
        case true?:
            continuation.yield(.frame(frame))
        case false?:
            continuation.yield(.close(.tryAgainLater, "slow_consumer"))
            continuation.finish()
        case nil:
            break
        }
    }

    func close(code: CloseCode, reason: String) {
        let first = state.withLock { state in
            defer { state.ended = true }
            return !state.ended
        }
        guard first else { return }
        continuation.yield(.close(code, reason))
        continuation.finish()
    }

    /// Asks for a keep-alive comment (nothing if the stream ended).
    func keepAlive() {
        guard !state.withLock({ $0.ended }) else { return }
        continuation.yield(.keepAlive)
    }

    var isClosing: Bool { state.withLock { $0.ended } }

    /// Nothing: a stream has its own keep-alive.
    func heartbeat() {}

    /// The response took a frame off the queue.
    func took() {
        state.withLock { $0.queued -= 1 }
    }

    /// The response is over (the client went away): later frames are dropped.
    func end() {
        state.withLock { $0.ended = true }
        continuation.finish()
    }
}
