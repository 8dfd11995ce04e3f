import Foundation
import HummingbirdWSClient
import HTTPTypes
import Logging
import NIOCore
@_spi(Node) import RoomRuntime
import Synchronization
import WSCore

/// This node's link to one other node: one WebSocket (`/cluster/link` at the node's `advertise`
/// address) that carries every connection and request this node forwards to the rooms that node
/// owns (see ``LinkFrame``), rather than a socket per client.
///
/// Frames are queued under a lock and written, in the order they were queued, by one task that
/// takes everything queued at once: a burst of forwarded messages costs one write. The link's
/// callers (``LinkRoute``, under a room's slot lock) never wait for the socket.
///
/// When the link ends (the node stopped, crashed or cannot be reached, or it did not open within
/// ``openTimeout``), every connection it carried is closed with 1012 (reconnect now: this node
/// asks the cluster where the room went) and every request on it fails with `room_unavailable`.
final class NodeLink: Sendable {
    /// How long the link may take to open before it counts as failed.
    static let openTimeout: Duration = .seconds(5)
    /// The most bytes queued for the node before the link gives up on it.
    static let maxQueuedBytes = 64 << 20

    fileprivate struct State {
        var queued = ByteBuffer()
        var nextID: UInt32 = 1
        /// Forwarded connections, by stream.
        var streams: [UInt32: (connection: RoomConnection, route: LinkRoute)] = [:]
        var streamOf: [RoomConnection.ID: UInt32] = [:]
        /// Requests waiting for their answer, by call.
        var calls: [UInt32: Call] = [:]
        var opened = false
        var ended = false
    }

    fileprivate struct Call {
        let answer: @Sendable (Result<RoomResponse, RoomError>) -> Void
        let route: LinkRoute
    }

    /// The node at the other end.
    let node: String
    let url: String
    private let state = Mutex(State())
    private let wake: AsyncStream<Void>.Continuation
    private let wakes: AsyncStream<Void>
    private let logger: Logger
    private let onEnd: @Sendable (NodeLink) -> Void

    /// Opens a link to `node` at `url` (its `advertise` address), proving this node with
    /// `authorization`; `onEnd` is called once when it ends.
    init(
        node: String, url: String, authorization: String, maxMessageBytes: Int, logger: Logger,
        onEnd: @escaping @Sendable (NodeLink) -> Void
    ) {
        self.node = node
        self.url = url
        self.logger = logger
        self.onEnd = onEnd
        (wakes, wake) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        start(authorization: authorization, maxMessageBytes: maxMessageBytes)
    }

    /// Whether the link may still carry frames (it may not be open yet).
    var isOpen: Bool { state.withLock { !$0.ended } }

    // MARK: - Forwarding (called under a room's slot lock: queue and return)

    func open(_ connection: RoomConnection, route: LinkRoute) {
        let address = route.address
        let queued: Queued = state.withLock { state in
            guard !state.ended else { return .refused }
            let id = state.allocate()
            state.streams[id] = (connection, route)
            state.streamOf[connection.id] = id
            let opening = LinkFrame.Opening(
                kind: address.kind, id: address.id, identity: .init(connection.identity),
                parameters: connection.parameters)
            return state.queue(.open(id, opening))
        }
        if !flush(queued) { connection.clientTransport.close(code: .serviceRestart, reason: Self.goneReason) }
    }

    func send(_ message: ClientMessage, of connection: RoomConnection) {
        let queued: Queued = state.withLock { state in
            guard !state.ended, let id = state.streamOf[connection.id] else { return .refused }
            return state.queue(.message(id, message))
        }
        // A message the link cannot carry is answered (dropped): its client is being closed.
        if !flush(queued) { connection.frameAnswered() }
    }

    func refresh(_ identity: Identity, of connection: RoomConnection) {
        let queued: Queued = state.withLock { state in
            guard !state.ended, let id = state.streamOf[connection.id] else { return .refused }
            return state.queue(.refresh(id, .init(identity)))
        }
        flush(queued)
    }

    func close(_ connection: RoomConnection) {
        let queued: Queued = state.withLock { state in
            guard let id = state.streamOf.removeValue(forKey: connection.id) else { return .refused }
            state.streams[id] = nil
            guard !state.ended else { return .refused }
            return state.queue(.close(id))
        }
        flush(queued)
    }

    func request(
        _ request: RoomRequest, to address: RoomAddress, route: LinkRoute,
        answer: @escaping @Sendable (Result<RoomResponse, RoomError>) -> Void
    ) {
        let queued: Queued = state.withLock { state in
            guard !state.ended else { return .refused }
            let id = state.allocate()
            state.calls[id] = Call(answer: answer, route: route)
            let wire = LinkFrame.Request(
                kind: address.kind, id: address.id, method: request.method, path: request.path, query: request.query,
                identity: request.identity.map(LinkFrame.WireIdentity.init), caller: request.caller.map { [$0.kind, $0.id] },
                purpose: request.purpose, longPoll: request.longPoll)
            return state.queue(.request(id, wire, body: request.body))
        }
        if !flush(queued) { answer(.failure(Self.gone)) }
    }

    // MARK: - Running

    static let goneReason = "the room's node went away: reconnect now"
    static let gone = RoomError.unavailable(.roomUnavailable, "the room's node cannot be reached; retry shortly")

    private func start(authorization: String, maxMessageBytes: Int) {
        var configuration = WebSocketClientConfiguration()
        // Received frames may be as large as a link frame; what this side writes is cut into
        // messages the other node's frame limit takes (see `writer`).
        configuration.maxFrameSize = LinkFrame.maxFrameBytes
        configuration.additionalHeaders = [.authorization: authorization]
        configuration.autoPing = .disabled
        configuration.closeTimeout = .seconds(2)
        let url = url.replacingOccurrences(of: "http://", with: "ws://")
            .replacingOccurrences(of: "https://", with: "wss://") + "/cluster/link"
        let session = Task { [self, wakes, logger] in
            do {
                try await WebSocketClient.connect(url: url, configuration: configuration, logger: logger) {
                    inbound, outbound, _ in
                    self.state.withLock { $0.opened = true }
                    await withThrowingTaskGroup(of: Void.self) { group in
                        group.addTask {
                            var reader = LinkFrame.Reader()
                            for try await message in inbound.messages(maxSize: LinkFrame.maxFrameBytes) {
                                guard case .binary(let bytes) = message else { continue }
                                for frame in try reader.read(bytes) { self.dispatch(frame) }
                            }
                        }
                        group.addTask {
                            for await _ in wakes {
                                var batch = self.takeQueued()
                                while batch.readableBytes > 0 {
                                    let chunk = batch.readSlice(length: min(batch.readableBytes, maxMessageBytes))!
                                    try await outbound.write(.binary(chunk))
                                }
                                if !self.isOpen { break }
                            }
                        }
                        // Either loop ending ends the link: at once, not once the client's close
                        // handshake is over (what was forwarded must not wait for it).
                        do {
                            try await group.next()
                            self.end("closed by the node")
                        } catch {
                            self.end("\(error)")
                        }
                        group.cancelAll()
                    }
                }
                end("closed")
            } catch {
                end("\(error)")
            }
        }
        Task { [self] in
            try? await Task.sleep(for: Self.openTimeout)
            if !state.withLock({ $0.opened }) {
                end("did not open within \(Self.openTimeout)")
                session.cancel()
            }
        }
        wake.yield()
    }

    /// What became of a frame given to the link.
    fileprivate enum Queued {
        case queued
        /// Queued, and more than ``NodeLink/maxQueuedBytes`` now wait for the node.
        case overflowing
        /// The link could not take it (it ended, or the stream is not on it).
        case refused
    }

    /// Wakes the writer after a frame was queued, or gives the link up when the node reads
    /// nothing and too much waits for it (ending it from a task of its own: the caller holds a
    /// room's slot lock). Returns whether the frame was queued.
    @discardableResult
    private func flush(_ queued: Queued) -> Bool {
        switch queued {
        case .queued:
            wake.yield()
        case .overflowing:
            Task { self.end("more than \(Self.maxQueuedBytes) bytes waited for the node") }
        case .refused:
            return false
        }
        return true
    }

    private func takeQueued() -> ByteBuffer {
        state.withLock { state in
            defer { state.queued = ByteBuffer() }
            return state.queued
        }
    }

    private func dispatch(_ frame: LinkFrame) {
        switch frame {
        case .frame(let id, let outbound):
            state.withLock { $0.streams[id] }?.connection.clientTransport.send(outbound)
        case .frames(let ids, let frames):
            // Each client's frames one after another: its socket writes them at once.
            let connections = state.withLock { state in ids.compactMap { state.streams[$0]?.connection } }
            for connection in connections {
                for frame in frames { connection.clientTransport.send(frame) }
            }
        case .shut(let id, let shut):
            guard let (connection, route) = state.withLock({ $0.streams[id] }) else { return }
            // Refused as not the room's owner (it moved): the client reconnects at once, and
            // this node asks the cluster again.
            let moved = shut.reason == RoomError.Code.roomUnavailable.rawValue
            connection.clientTransport.close(
                code: moved ? .serviceRestart : CloseCode(rawValue: shut.code), reason: moved ? Self.goneReason : shut.reason)
            if moved { route.markStale() }
        case .credit(let id, let count):
            guard let connection = state.withLock({ $0.streams[id] })?.connection else { return }
            for _ in 0..<count { connection.frameAnswered() }
        case .response(let id, let response, let body):
            guard let call = state.withLock({ $0.calls.removeValue(forKey: id) }) else { return }
            var answer = RoomResponse(status: response.status, contentType: response.contentType, body: body)
            answer.wasForwarded = true
            call.answer(.success(answer))
        case .failure(let id, let failure):
            guard let call = state.withLock({ $0.calls.removeValue(forKey: id) }) else { return }
            if failure.saysMoved {
                call.route.markStale()
                call.answer(.failure(.unavailable(.roomUnavailable, "the room is moving between nodes; retry shortly")))
            } else {
                call.answer(.failure(failure.error))
            }
        case .open, .message, .close, .refresh, .request:
            logger.warning("link: a node sent a frame only this side sends", metadata: ["node": "\(node)"])
        }
    }

    /// Ends the link (once): its connections are closed with 1012, its requests fail.
    func end(_ why: String) {
        let taken: (streams: [RoomConnection], calls: [Call])? = state.withLock { state in
            guard !state.ended else { return nil }
            state.ended = true
            defer {
                state.streams.removeAll()
                state.calls.removeAll()
                state.queued = ByteBuffer()
            }
            return (state.streams.values.map(\.connection), Array(state.calls.values))
        }
        guard let taken else { return }
        wake.finish()
        logger.notice(
            "link to a node ended", metadata: ["node": "\(node)", "reason": "\(why)", "connections": "\(taken.streams.count)"])
        for connection in taken.streams {
            connection.clientTransport.close(code: .serviceRestart, reason: Self.goneReason)
        }
        for call in taken.calls { call.answer(.failure(Self.gone)) }
        onEnd(self)
    }
}

extension NodeLink.State {
    // (fileprivate: the link's own bookkeeping)
    mutating func allocate() -> UInt32 {
        defer { nextID = nextID == .max ? 1 : nextID + 1 }
        return nextID
    }

    /// Queues `frame`, and says whether too much now waits for the node.
    mutating func queue(_ frame: LinkFrame) -> NodeLink.Queued {
        frame.write(to: &queued)
        return queued.readableBytes > NodeLink.maxQueuedBytes ? .overflowing : .queued
    }
}
