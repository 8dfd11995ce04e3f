import Foundation
import Synchronization

/// A client that sends chat messages as fast as TCP lets it and never reads an answer: the flood
/// of `rooms bench slow`.
///
/// It floods a room of its own (in the room everyone listens to, every message would be a thousand
/// deliveries: load, not misbehaviour). Its `ack`s pile up unread until the server closes it as a
/// slow consumer; it then connects again and goes on, as a broken client would, until
/// ``stop()``.
final class Flooder: Sendable {
    /// What it did.
    struct Outcome: Sendable {
        /// Frames written to its sockets.
        var framesSent: Int
        /// Connections the server ended while it flooded.
        var sessionsClosed: Int
    }

    private let stopped = StopFlag()
    private let state = Mutex((sent: 0, closed: 0, socket: BlockingWebSocket?.none))
    private let done = Mutex(false)

    init(host: String, port: Int, path: String, size: Int) {
        let frame = BlockingWebSocket.textFrame(#"{"type":"send","text":"\#(String(repeating: "f", count: size))"}"#)
        let thread = Thread { [self] in
            while !stopped.isSet {
                guard let socket = try? BlockingWebSocket(host: host, port: port, path: path, receiveBuffer: 4096) else {
                    Thread.sleep(forTimeInterval: 0.05)
                    continue
                }
                state.withLock { $0.socket = socket }
                while !stopped.isSet, socket.write(frame) {
                    state.withLock { $0.sent += 1 }
                }
                if !stopped.isSet { state.withLock { $0.closed += 1 } }
            }
            done.withLock { $0 = true }
        }
        thread.start()
    }

    /// Stops flooding (wakes a write blocked by TCP) and says what it did.
    func stop() -> Outcome {
        stopped.set()
        state.withLock { $0.socket?.abort() }
        while !done.withLock({ $0 }) { Thread.sleep(forTimeInterval: 0.01) }
        return state.withLock { Outcome(framesSent: $0.sent, sessionsClosed: $0.closed) }
    }
}
