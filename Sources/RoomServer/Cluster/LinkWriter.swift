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
    /// A frame being broadcast, and the streams it went to so far.
    private struct Broadcast {
        var frame: OutboundFrame
        var streams: [UInt32]
    }

    /// Broadcasts to the same streams, one after another (a room's turns broadcasting several
    /// messages): sent together, so that the other node writes each client's frames at once.
    private struct Group {
        var frames: [OutboundFrame]
        var streams: [UInt32]
    }

    private struct State {
        var current: Broadcast?
        var group: Group?
        var flushScheduled = false

        /// Moves the current broadcast into the group (when it went to the group's streams), or
        /// returns the group to write and starts a new one with it.
        mutating func closeCurrent() -> Group? {
            guard let current else { return nil }
            self.current = nil
            if var group, group.streams == current.streams {
                group.frames.append(current.frame)
                self.group = group
                return nil
            }
            defer { group = Group(frames: [current.frame], streams: current.streams) }
            return group
        }

        /// Everything held, in order, to write now.
        mutating func takeAll() -> [Group] {
            var groups: [Group] = []
            if let full = closeCurrent() { groups.append(full) }
            if let group { groups.append(group) }
            group = nil
            return groups
        }
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
            if var current = state.current, current.frame.opcode == frame.opcode, current.frame.payload == frame.payload {
                current.streams.append(stream)
                state.current = current
                return false
            }
            if let full = state.closeCurrent() { outbox.send(Self.encoded(full)) }
            state.current = Broadcast(frame: frame, streams: [stream])
            defer { state.flushScheduled = true }
            return !state.flushScheduled
        }
        if schedule {
            outbox.channel.eventLoop.execute { self.flush() }
        }
    }

    /// Any other frame: after the broadcasts being gathered.
    func send(_ frame: LinkFrame) {
        state.withLock { state in
            write(state.takeAll())
            outbox.send(PeerLinkApplication.encoded(frame))
        }
    }

    /// Writes the broadcasts being gathered.
    func flush() {
        state.withLock { state in
            state.flushScheduled = false
            write(state.takeAll())
        }
    }

    private func write(_ groups: [Group]) {
        for group in groups { outbox.send(Self.encoded(group)) }
    }

    private static func encoded(_ group: Group) -> OutboundFrame {
        PeerLinkApplication.encoded(
            group.streams.count == 1 && group.frames.count == 1
                ? .frame(group.streams[0], group.frames[0]) : .frames(group.streams, group.frames))
    }
}
