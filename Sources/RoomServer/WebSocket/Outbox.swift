import DequeModule
import NIOCore
import NIOWebSocket
@_spi(Node) import RoomRuntime
import Synchronization

/// The bounded queue between the rooms (on shard threads) and one WebSocket.
///
/// Rooms never wait for a socket: `send` appends and returns. The first frame queued schedules one
/// drain on the socket's event loop, which writes everything queued by then and flushes once: a
/// broadcast costs each recipient one hop to its event loop per batch, not a task switch and a
/// system call per frame. Frames are written only while the socket is writable; a client that
/// reads too slowly lets its queue fill, and at the limit the queue is dropped and the connection
/// closed with 1013 (try again later), so that one slow client never holds memory or slows
/// anyone else. It can reconnect and catch up from history.
///
/// Closes go to the socket's handler as ``SocketEvent``s through the channel's pipeline:
/// ``SocketEvent/closeQueued`` when a close is asked for (or the queue overflowed), so that the
/// handler can cut a connection whose close cannot be written, and ``SocketEvent/sendClose(_:_:)``
/// once the frames before it are written. No task waits per connection for that: an idle
/// connection costs only its queue.
final class Outbox: OpenConnection {
    private struct State {
        var items = Deque<OutboundFrame>()
        /// A drain is scheduled on the event loop (or running).
        var draining = false
        /// A close was asked for: frames after it are dropped.
        var closing = false
        /// The close to send once the frames before it are written.
        var pendingClose: (CloseCode, String)?
        var finished = false
    }

    /// The most frames waiting for one connection.
    let limit: Int
    /// The socket's channel.
    let channel: any Channel
    private let state = Mutex(State())

    init(channel: any Channel, limit: Int) {
        self.channel = channel
        self.limit = limit
    }

    func send(_ frame: OutboundFrame) {
        var closed = false
        let schedule: Bool = state.withLock { state in
            guard !state.finished, !state.closing else { return false }
            guard state.items.count < limit else {
                // Too far behind: drop everything and close at once.
                state.items.removeAll()
                state.closing = true
                closed = true
                handOver(.tryAgainLater, "slow_consumer", in: &state)
                return false
            }
            state.items.append(frame)
            guard !state.draining else { return false }
            state.draining = true
            return true
        }
        if closed { SocketEvent.closeQueued.fire(on: channel) }
        if schedule { channel.eventLoop.execute { self.drain() } }
    }

    func close(code: CloseCode, reason: String) {
        let schedule: Bool = state.withLock { state in
            guard !state.finished, !state.closing else { return false }
            state.closing = true
            if state.items.isEmpty, !state.draining {
                handOver(code, reason, in: &state)
                return false
            }
            state.pendingClose = (code, reason)
            guard !state.draining else { return false }
            state.draining = true
            return true
        }
        SocketEvent.closeQueued.fire(on: channel)
        if schedule { channel.eventLoop.execute { self.drain() } }
    }

    /// The socket became writable again: write what waited.
    func resume() {
        let schedule: Bool = state.withLock { state in
            guard !state.draining, !state.items.isEmpty || state.pendingClose != nil else { return false }
            state.draining = true
            return true
        }
        if schedule { drain() }
    }

    /// Writes what is queued, in batches with one flush each, while the socket is writable.
    /// Runs on the socket's event loop.
    private func drain() {
        while true {
            let batch: Deque<OutboundFrame>? = state.withLock { state in
                guard !state.finished else {
                    state.draining = false
                    return nil
                }
                if state.items.isEmpty || !channel.isWritable {
                    if state.items.isEmpty, let (code, reason) = state.pendingClose {
                        state.pendingClose = nil
                        handOver(code, reason, in: &state)
                    }
                    state.draining = false
                    return nil
                }
                // Swapped out, not emptied in place: an idle socket keeps no buffer.
                defer { state.items = Deque() }
                return state.items
            }
            guard let batch else { return }
            for frame in batch {
                channel.write(
                    WebSocketFrame(fin: true, opcode: frame.opcode == .text ? .text : .binary, data: frame.payload),
                    promise: nil)
            }
            channel.flush()
        }
    }

    /// Gives the close to the socket's handler (with the lock held: the event goes out later).
    private func handOver(_ code: CloseCode, _ reason: String, in state: inout State) {
        guard !state.finished else { return }
        SocketEvent.sendClose(code, reason).fire(on: channel)
    }

    /// Ends the queue: later frames and closes are dropped.
    func finish() {
        state.withLock { state in
            state.finished = true
            state.items.removeAll()
        }
    }

    /// Frames waiting to be written (for tests).
    var queued: Int { state.withLock { $0.items.count } }

    /// Whether a close was asked for or the queue overflowed.
    var isClosing: Bool { state.withLock { $0.closing } }

    /// Pings the client, on the socket's event loop (see ``WebSocketHandler``).
    func heartbeat() {
        SocketEvent.heartbeat.fire(on: channel)
    }
}
