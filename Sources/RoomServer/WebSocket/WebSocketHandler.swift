import DequeModule
import Logging
import NIOCore
import NIOWebSocket
@_spi(Node) import RoomRuntime

/// One client's WebSocket once upgraded: the last handler of its channel, after NIO's frame
/// decoder and encoder. It runs the WebSocket's control frames (ping, pong, close) itself and
/// hands each whole message to its ``SocketApplication``: the room protocol
/// (``RoomSocketApplication``) or STOMP (``StompApplication``).
///
/// There is no task, async channel or actor per connection: an idle socket costs its channel, this
/// handler, its ``Outbox``, its application and its ``RoomConnection``, and nothing runs for it until bytes arrive
/// or the node's heartbeat (``SocketRegistry/heartbeat()``) pings it. This is written by hand,
/// rather than on WSCore's WebSocket handler, for that memory: the async machinery per connection
/// (a reading task, the async channel's buffers, the handler actor and its ping task) cost about
/// 25 KiB per idle socket, most of a node's memory when it holds many hibernated rooms.
///
/// The rules it keeps (RFC 6455, as the server side):
/// - a message may arrive in fragments, up to the application's `maxMessageBytes` in all (else 1009); a text
///   message must be valid UTF-8 (else 1007); reserved bits, reserved opcodes, a continuation
///   without a start, or a new message inside a fragmented one close with 1002. A frame too large
///   (1009), a fragmented control frame or a long one (1002) are refused by NIO's decoder, and
///   this handler closes the connection with the code;
/// - a ping is answered with a pong carrying its payload; the node pings every socket each
///   heartbeat, and a socket that has not answered the previous ping is closed with 1001;
/// - a client's close is answered with a close (1000, or 1002 for an invalid code or reason), then
///   the connection is closed; a close the server starts (the room asked, the node stops, the
///   client fell too far behind) goes after the frames queued before it, and the client has
///   `closeTimeout` to answer once it is sent, `closeDrainTimeout` while it waits behind frames the
///   client has not read. Either deadline cuts the connection.
///
/// Backpressure: while the application asks the client to wait (its room has not caught up), the
/// socket is not read (TCP holds the client back) and messages already read wait here, in order.
/// Nor is it read while the server's close waits to be written: a client that floods without
/// reading (its queue overflowed) would otherwise be read, and its frames thrown away, as fast as
/// a core allows until the drain deadline; TCP holds it back instead. Once the close is on the
/// wire, reading resumes to take the client's answer, but a client that sends more than two
/// messages' worth of data before answering is cut at once: its answer would only come after its
/// flood.
final class WebSocketHandler: ChannelDuplexHandler {
    typealias InboundIn = WebSocketFrame
    typealias OutboundIn = WebSocketFrame
    typealias OutboundOut = WebSocketFrame

    private enum Phase {
        case open
        /// The server sent its close frame and waits for the client's.
        case closing
        case closed
    }

    private let settings: SocketSettings
    private var phase = Phase.open
    private var outbox: Outbox?
    private var application: (any SocketApplication)?
    /// What the node's registry holds for this socket (see ``SocketApplication/registration(for:)``).
    private var registered: (any OpenConnection)?
    /// Fires ``SocketEvent/resumeReading``: made once, when the client first sends, since it goes
    /// with every message it sends.
    private lazy var resume: @Sendable () -> Void = { [channel = outbox?.channel] in
        if let channel { SocketEvent.resumeReading.fire(on: channel) }
    }
    /// A message split over frames while its fragments arrive, and whether it is text.
    private var fragments: ByteBuffer?
    private var fragmentsAreText = false
    /// The room asked the client to wait: the socket is not read, and messages already read wait
    /// in `held`.
    private var paused = false
    private var readPending = false
    /// The server's close frame is queued but not written yet: the socket is not read meanwhile.
    private var closeUnwritten = false
    /// Whether the socket may be read now.
    private var mayRead: Bool { !paused && !closeUnwritten }
    /// Bytes of data frames still taken (and dropped) while the server waits for the answer to its
    /// close; past it, the connection is cut.
    private lazy var closingAllowance = 2 * maxMessageBytes
    private var held = Deque<ClientMessage>()
    /// The payload of the ping the client has not answered yet.
    private var unansweredPing: UInt64?
    /// Cuts the connection when a close does not complete in time.
    private var closeTimer: Scheduled<Void>?
    private var ended = false

    init(settings: SocketSettings) {
        self.settings = settings
    }

    /// Starts `application` on the socket: run once the handler is in the channel's pipeline.
    func open(_ application: any SocketApplication, context: ChannelHandlerContext) {
        let outbox = Outbox(channel: context.channel, limit: settings.maxQueuedFrames)
        self.outbox = outbox
        self.application = application
        let registered = application.registration(for: outbox)
        self.registered = registered
        settings.budget.webSocketOpened()
        guard settings.sockets.add(registered) else {
            registered.close(code: .goingAway, reason: RoomError.Code.shuttingDown.rawValue)
            return
        }
        application.open(outbox: outbox, context: context)
    }

    func channelInactive(context: ChannelHandlerContext) {
        end()
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        end()
    }

    /// The connection is gone: the application hears of it once; messages still held are dropped
    /// (the client got no ack for them, and resends by id).
    private func end() {
        guard !ended else { return }
        ended = true
        phase = .closed
        closeTimer?.cancel()
        closeTimer = nil
        held.removeAll()
        application?.end()
        // Counted (and registered) from `open`, which made the outbox.
        if let outbox, let registered {
            outbox.finish()
            settings.sockets.remove(registered)
            settings.budget.webSocketClosed()
        }
    }

    // MARK: - Frames from the client

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        switch frame.opcode {
        case .text, .binary:
            guard frame.reservedBits.isEmpty, fragments == nil else { return fail(.protocolError, context: context) }
            guard phase == .open else { return dropWhileClosing(frame, context: context) }
            guard frame.length <= maxMessageBytes else { return fail(.messageTooLarge, context: context) }
            if frame.fin {
                received(frame.unmaskedData, isText: frame.opcode == .text, context: context)
            } else {
                fragments = frame.unmaskedData
                fragmentsAreText = frame.opcode == .text
            }
        case .continuation:
            guard phase == .open else { return dropWhileClosing(frame, context: context) }
            guard frame.reservedBits.isEmpty, var message = fragments else { return fail(.protocolError, context: context) }
            fragments = nil
            var data = frame.unmaskedData
            guard message.readableBytes + data.readableBytes <= maxMessageBytes else {
                return fail(.messageTooLarge, context: context)
            }
            message.writeBuffer(&data)
            if frame.fin {
                received(message, isText: fragmentsAreText, context: context)
            } else {
                fragments = message
            }
        case .ping:
            guard phase == .open else { return }
            context.writeAndFlush(
                wrapOutboundOut(WebSocketFrame(fin: true, opcode: .pong, data: frame.unmaskedData)), promise: nil)
        case .pong:
            var data = frame.unmaskedData
            if let ping = unansweredPing, data.readableBytes == 8, data.readInteger(as: UInt64.self) == ping {
                unansweredPing = nil
            }
        case .connectionClose:
            receivedClose(frame, context: context)
        default:
            fail(.protocolError, context: context)
        }
    }

    /// A data frame that arrived after the server's close: dropped, and the connection cut once
    /// the client has sent more than ``closingAllowance`` since.
    private func dropWhileClosing(_ frame: WebSocketFrame, context: ChannelHandlerContext) {
        closingAllowance -= frame.length
        if closingAllowance < 0 { context.close(promise: nil) }
    }

    /// A whole message: to the room, or held while the room asks the client to wait.
    private func received(_ bytes: ByteBuffer, isText: Bool, context: ChannelHandlerContext) {
        let message: ClientMessage
        if isText {
            var bytes = bytes
            guard let text = try? bytes.readUTF8ValidatedString(length: bytes.readableBytes) else {
                return fail(.dataInconsistentWithMessage, context: context)
            }
            message = .text(text)
        } else {
            message = .binary(bytes)
        }
        if paused {
            held.append(message)
        } else {
            deliver(message)
        }
    }

    private func deliver(_ message: ClientMessage) {
        guard let application else { return }
        if !application.receive(message, resume: resume) { paused = true }
    }

    /// The largest message the application takes (the node's frame limit until it is open).
    private var maxMessageBytes: Int { application?.maxMessageBytes ?? settings.maxMessageBytes }

    /// The room caught up: hand it what waited, then read the socket again.
    private func resumeReading(context: ChannelHandlerContext) {
        paused = false
        while !paused, let message = held.popFirst() {
            deliver(message)
        }
        if mayRead, readPending {
            readPending = false
            context.read()
        }
    }

    func read(context: ChannelHandlerContext) {
        if mayRead {
            context.read()
        } else {
            readPending = true
        }
    }

    /// The server's close frame was written: read again, for the client's answer.
    private func closeWritten(context: ChannelHandlerContext) {
        closeUnwritten = false
        if mayRead, readPending {
            readPending = false
            context.read()
        }
    }

    // MARK: - Closing

    /// The client's close frame: answered, then the connection closes (as RFC 6455 asks of a
    /// server). An answer to the server's own close just closes.
    private func receivedClose(_ frame: WebSocketFrame, context: ChannelHandlerContext) {
        switch phase {
        case .open:
            phase = .closed
            var data = frame.unmaskedData
            let size = data.readableBytes
            let code = data.readWebSocketErrorCode()
            let reasonIsValid =
                data.readableBytes == 0 || (try? data.readUTF8ValidatedString(length: data.readableBytes)) != nil
            let answer: WebSocketErrorCode
            if !frame.reservedBits.isEmpty || !reasonIsValid || (size > 0 && code == nil) {
                answer = .protocolError
            } else if case .unknown(let number) = code, number < 3000 || number > 4999 {
                // 3000-3999 are for libraries and 4000-4999 private: valid; other unknown codes are not.
                answer = .protocolError
            } else {
                answer = .normalClosure
            }
            let channel = context.channel
            writeClose(answer, reason: nil, context: context).whenComplete { _ in channel.close(promise: nil) }
        case .closing:
            phase = .closed
            context.close(promise: nil)
        case .closed:
            break
        }
    }

    /// Starts a close from the server's side. The client has `closeTimeout` to answer once the
    /// close frame is on the wire; until then (it may wait behind frames the client has not read)
    /// the drain deadline holds.
    private func startClose(_ code: WebSocketErrorCode, reason: String?, context: ChannelHandlerContext) {
        guard phase == .open else { return }
        phase = .closing
        let channel = context.channel
        if closeTimer == nil { cut(after: settings.closeDrainTimeout, channel: channel) }
        let handler = NIOLoopBound(self, eventLoop: context.eventLoop)
        let context = NIOLoopBound(context, eventLoop: context.eventLoop)
        let timeout = settings.closeTimeout
        closeUnwritten = true
        writeClose(code, reason: reason, context: context.value).whenComplete { [logger = settings.logger] result in
            switch result {
            case .success:
                handler.value.closeWritten(context: context.value)
                handler.value.cut(after: timeout, channel: channel)
            case .failure(let error):
                logger.trace("socket close failed", metadata: ["error": "\(error)"])
                channel.close(promise: nil)
            }
        }
    }

    @discardableResult
    private func writeClose(_ code: WebSocketErrorCode, reason: String?, context: ChannelHandlerContext)
        -> EventLoopFuture<Void>
    {
        var data = context.channel.allocator.buffer(capacity: 2 + (reason?.utf8.count ?? 0))
        data.write(webSocketErrorCode: code)
        if let reason { data.writeString(reason) }
        let promise = context.eventLoop.makePromise(of: Void.self)
        context.writeAndFlush(
            wrapOutboundOut(WebSocketFrame(fin: true, opcode: .connectionClose, data: data)), promise: promise)
        return promise.futureResult
    }

    /// The client broke the protocol: close with `code`.
    private func fail(_ code: WebSocketErrorCode, context: ChannelHandlerContext) {
        fragments = nil
        held.removeAll()
        guard phase == .open else { return context.close(promise: nil) }
        startClose(code, reason: nil, context: context)
    }

    /// Cuts the connection after `timeout` (replacing an earlier deadline).
    private func cut(after timeout: Duration, channel: any Channel) {
        guard !ended else { return }
        closeTimer?.cancel()
        closeTimer = channel.eventLoop.scheduleTask(in: TimeAmount(timeout)) { channel.close(promise: nil) }
    }

    // MARK: - Events

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        switch event {
        case let event as SocketEvent:
            switch event {
            case .resumeReading:
                resumeReading(context: context)
            case .closeQueued:
                if phase == .open, closeTimer == nil { cut(after: settings.closeDrainTimeout, channel: context.channel) }
            case .sendClose(let code, let reason):
                startClose(WebSocketErrorCode(codeNumber: Int(code.rawValue)), reason: reason, context: context)
            case .heartbeat:
                heartbeat(context: context)
            }
        case ChannelEvent.inputClosed:
            // The client shut its side without a close frame: it is gone.
            context.close(promise: nil)
        default:
            context.fireUserInboundEventTriggered(event)
        }
    }

    private func heartbeat(context: ChannelHandlerContext) {
        guard phase == .open else { return }
        if unansweredPing != nil {
            settings.logger.debug("closing a WebSocket that did not answer its ping")
            startClose(.goingAway, reason: "Ping timeout", context: context)
            context.close(promise: nil)
            return
        }
        let ping = UInt64.random(in: .min ... .max)
        unansweredPing = ping
        var data = context.channel.allocator.buffer(capacity: 8)
        data.writeInteger(ping)
        context.writeAndFlush(wrapOutboundOut(WebSocketFrame(fin: true, opcode: .ping, data: data)), promise: nil)
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable { outbox?.resume() }
        context.fireChannelWritabilityChanged()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        settings.logger.trace("WebSocket error", metadata: ["error": "\(error)"])
        // The decoder refused a frame: it reads nothing more, so the close goes out and the
        // connection ends without waiting for an answer (as NIO's own error handler does).
        // Anything else (a reset) just ends the connection.
        guard let error = error as? NIOWebSocketError, phase == .open else { return context.close(promise: nil) }
        phase = .closed
        let code: WebSocketErrorCode = error == .invalidFrameLength ? .messageTooLarge : .protocolError
        let channel = context.channel
        writeClose(code, reason: nil, context: context).whenComplete { _ in channel.close(promise: nil) }
    }
}
