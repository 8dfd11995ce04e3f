import Foundation

/// A listener that joins a room and never reads: the slow consumer of `rooms bench slow`.
///
/// Its receive buffer is 4 KiB, so TCP soon stops taking the room's frames, the server queues them
/// for it up to `server.maxQueuedFrames`, then closes it with 1013 (`slow_consumer`). When and how
/// cannot be seen without reading (the server's close waits behind the unread frames), so
/// ``finish()`` reads at last what was left for it, to count the frames and find the close.
final class StalledListener: Sendable {
    /// What became of it.
    struct Outcome: Sendable {
        /// Frames it found when it read at last (those written to its socket before the close).
        var framesReceived: Int
        /// The close frame's code, if it was among them.
        var closeCode: Int?
        /// Whether the server had ended the connection (with or without a close frame: one cut
        /// at the drain deadline loses the close still queued behind unread frames).
        var ended: Bool
    }

    private let socket: BlockingWebSocket

    init(host: String, port: Int, path: String) throws {
        socket = try BlockingWebSocket(host: host, port: port, path: path, receiveBuffer: 4096)
    }

    /// Reads what the server left on the socket, and says what happened.
    func finish() -> Outcome {
        let (data, ended) = socket.drain(seconds: 2)
        let frames = BlockingWebSocket.frames(in: data)
        socket.abort()
        let close = frames.first { $0.opcode == 0x8 }.flatMap { frame -> Int? in
            let payload = Array(frame.payload)
            return payload.count >= 2 ? Int(payload[0]) << 8 | Int(payload[1]) : nil
        }
        return Outcome(framesReceived: frames.filter { $0.opcode == 0x1 }.count, closeCode: close, ended: ended)
    }
}
