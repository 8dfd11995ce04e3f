import NIOCore
@_spi(Node) import RoomRuntime
import Synchronization

/// The owner's side of a link, writing: everything the owner sends back over one link goes
/// through it, in order.
///
/// A room broadcasting a frame to many connections forwarded over the same link hands the same
/// frame to each, one after another: those are sent as one `frames` frame naming every stream
/// (the forwarding node sends the one payload to each of its clients), not one frame per
/// connection. The writer holds the frame being broadcast until a different frame or another
/// kind of frame comes, or until the link's event loop runs next (a broadcast is one loop on a
/// shard, so it is usually whole by then); anything else is written after it, and everything is
/// handed to the link's outbox under one lock, so each stream's frames keep their order.
final class LinkWriter: Sendable {
    private struct Pending {
        var frame: OutboundFrame
        var streams: [UInt32]
    }

    private struct State {
        var pending: Pending?
        var flushScheduled = false
    }

    let outbox: Outbox
    private let state = Mutex(State())

    init(outbox: Outbox) {
        self.outbox = outbox
    }

    /// `frame` for the client of `stream`.
    func send(_ frame: OutboundFrame, to stream: UInt32) {
        // The outbox is written under this writer's lock, so that what two threads send cannot
        // pass each other (the outbox never calls back).
        let schedule: Bool = state.withLock { state in
            if var pending = state.pending, pending.frame.opcode == frame.opcode, pending.frame.payload == frame.payload {
                pending.streams.append(stream)
                state.pending = pending
                return false
            }
            if let pending = state.pending { outbox.send(Self.encoded(pending)) }
            state.pending = Pending(frame: frame, streams: [stream])
            defer { state.flushScheduled = true }
            return !state.flushScheduled
        }
        if schedule {
            outbox.channel.eventLoop.execute { self.flush() }
        }
    }

    /// Any other frame: after the broadcast being gathered.
    func send(_ frame: LinkFrame) {
        state.withLock { state in
            if let pending = state.pending { outbox.send(Self.encoded(pending)) }
            state.pending = nil
            outbox.send(PeerLinkApplication.encoded(frame))
        }
    }

    /// Writes the broadcast being gathered.
    func flush() {
        state.withLock { state in
            state.flushScheduled = false
            if let pending = state.pending { outbox.send(Self.encoded(pending)) }
            state.pending = nil
        }
    }

    private static func encoded(_ pending: Pending) -> OutboundFrame {
        PeerLinkApplication.encoded(
            pending.streams.count == 1
                ? .frame(pending.streams[0], pending.frame) : .frames(pending.streams, pending.frame))
    }
}
