import Logging
import NIOCore
@_spi(Node) import RoomRuntime

/// The owner's end of a link from another node (``NodeLink`` is the other end): the connections
/// and requests that node forwards to rooms this node owns, run here as if their clients had
/// connected here, marked as forwarded (`viaPeer`) so that a room this node does not own refuses
/// them rather than forward them again.
///
/// The link is read without pause: each forwarded connection is held back by credits instead
/// (a message is credited once its room's queue lets the connection send more, as
/// ``ConnectionHandle/offer(_:whenReady:)`` says), so one busy room does not stop the others.
/// Runs on the link socket's event loop.
final class PeerLinkApplication: SocketApplication {
    private let peer: String
    private let settings: SocketSettings
    private let longPolls: LongPolls
    private var outbox: Outbox?
    private var writer: LinkWriter?
    private var streams: [UInt32: ConnectionHandle] = [:]
    private var reader = LinkFrame.Reader()

    init(peer: String, settings: SocketSettings, longPolls: LongPolls) {
        self.peer = peer
        self.settings = settings
        self.longPolls = longPolls
    }

    var maxMessageBytes: Int { LinkFrame.maxFrameBytes }

    func open(outbox: Outbox, context: ChannelHandlerContext) {
        self.outbox = outbox
        writer = LinkWriter(outbox: outbox)
        settings.logger.info("link from a node opened", metadata: ["node": "\(peer)"])
    }

    func receive(_ message: ClientMessage, resume: @escaping @Sendable () -> Void) -> Bool {
        guard let outbox, let writer else { return true }
        let frames: [LinkFrame]
        do {
            guard case .binary(let bytes) = message else {
                throw LinkFrame.Malformed(description: "a link carries binary messages only")
            }
            frames = try reader.read(bytes)
        } catch {
            settings.logger.warning("link closed: a malformed frame", metadata: ["node": "\(peer)", "error": "\(error)"])
            outbox.close(code: .policyViolation, reason: "malformed link frame")
            return true
        }
        var credits: [UInt32: UInt32] = [:]
        for frame in frames {
            switch frame {
            case .open(let id, let opening):
                open(id, opening, writer: writer)
            case .message(let id, let message):
                guard let handle = streams[id] else {
                    // Closed here already: the other node counts it answered.
                    credits[id, default: 0] += 1
                    continue
                }
                if handle.offer(message, whenReady: { writer.send(.credit(id, count: 1)) }) {
                    credits[id, default: 0] += 1
                }
            case .close(let id):
                streams.removeValue(forKey: id)?.disconnect()
            case .refresh(let id, let identity):
                if let handle = streams[id], identity.user == handle.connection.user {
                    handle.refresh(identity.identity)
                }
            case .request(let id, let request, let body):
                self.request(id, request, body: body, writer: writer)
            case .frame, .frames, .shut, .credit, .response, .failure:
                settings.logger.warning("link: a node sent a frame only owners send", metadata: ["node": "\(peer)"])
            }
        }
        for (id, count) in credits { writer.send(.credit(id, count: count)) }
        return true
    }

    func end() {
        settings.logger.info("link from a node ended", metadata: ["node": "\(peer)", "connections": "\(streams.count)"])
        for handle in streams.values { handle.disconnect() }
        streams.removeAll()
    }

    private func open(_ id: UInt32, _ opening: LinkFrame.Opening, writer: LinkWriter) {
        let transport = PeerStreamTransport(stream: id, writer: writer)
        do {
            // Any kind this node serves: the forwarding node checked the route the client used.
            let address = try settings.runtime.address(kind: opening.kind, id: opening.id)
            streams[id] = try settings.runtime.connect(
                to: address, identity: opening.identity.identity, parameters: opening.parameters, transport: transport,
                viaPeer: true)
        } catch {
            transport.send(ErrorFrame.frame(for: error))
            transport.close(code: CloseCode(closingFor: error), reason: error.code.rawValue)
        }
    }

    private func request(_ id: UInt32, _ wire: LinkFrame.Request, body: ByteBuffer, writer: LinkWriter) {
        let answer: @Sendable (Result<RoomResponse, RoomError>) -> Void = { result in
            switch result {
            case .success(let response):
                writer.send(.response(id, .init(status: response.status, contentType: response.contentType), body: response.body))
            case .failure(let error):
                writer.send(.failure(id, .init(error)))
            }
        }
        let address: RoomAddress
        var request = RoomRequest(
            method: wire.method, path: wire.path, query: wire.query, body: body, identity: wire.identity?.identity)
        do throws(RoomError) {
            address = try settings.runtime.address(kind: wire.kind, id: wire.id)
            if let caller = wire.caller {
                guard caller.count == 2 else { throw RoomError.badRequest(.invalidField, "a call's caller is a kind and an id") }
                request.caller = try RoomAddress(kind: caller[0], id: caller[1])
            }
        } catch {
            answer(.failure(error))
            return
        }
        request.purpose = wire.purpose
        request.viaPeer = true
        if case .deletion = wire.purpose {
            let runtime = settings.runtime
            Task {
                do throws(RoomError) {
                    let existed = try await runtime.delete(address, viaPeer: true)
                    answer(.success(RoomResponse(status: existed ? 204 : 404)))
                } catch {
                    answer(.failure(error))
                }
            }
            return
        }
        if let poll = wire.longPoll {
            // The poll waits here, where the room commits.
            let longPolls = longPolls
            Task {
                do {
                    answer(.success(try await longPolls.answer(request, at: address, after: poll.after, seconds: poll.seconds)))
                } catch let error as RoomError {
                    answer(.failure(error))
                } catch {
                    answer(.failure(.internal("\(error)")))
                }
            }
            return
        }
        do {
            try settings.runtime.submit(request, to: address, answer: answer)
        } catch {
            answer(.failure(error))
        }
    }

    static func encoded(_ frame: LinkFrame) -> OutboundFrame {
        var buffer = ByteBuffer()
        frame.write(to: &buffer)
        return .binary(buffer)
    }
}

/// A forwarded connection's transport on the owner: its frames go back over the link, named by
/// their stream.
struct PeerStreamTransport: ConnectionTransport {
    let stream: UInt32
    let writer: LinkWriter

    func send(_ frame: OutboundFrame) {
        writer.send(frame, to: stream)
    }

    func close(code: CloseCode, reason: String) {
        writer.send(.shut(stream, .init(code: code.rawValue, reason: reason)))
    }
}
