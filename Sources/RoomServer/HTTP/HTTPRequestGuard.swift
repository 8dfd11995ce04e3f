import NIOCore
import NIOHTTP1
import RoomRuntime

/// Answers what never reaches a route on an HTTP/1.1 connection, then closes the connection:
///
/// - a request the parser refuses (an unknown or lowercase method, a raw space in the path, bytes
///   that are not HTTP, a broken header or Content-Length): `400 malformed_request`;
/// - a request head that is not complete within the header timeout, counted from the
///   connection's start or, between keep-alive requests, from the first bytes of the next
///   request: `408 request_timeout`.
///
/// It sits right after NIO's request decoder, where NIO's `HTTPServerProtocolErrorHandler` would
/// go. That handler is not used because it answers with an empty body, where every error of the
/// protocol has a JSON body, and because nothing closes the connection after it: before the first
/// request head there is no `NIOAsyncChannel` to end, and the upgrade handler waits for a head
/// forever. The header deadline is a timer of its own because `IdleStateHandler` measures
/// silence, not progress: a client sending one byte a second is never idle. Keep-alive
/// connections idle between requests (and request bodies that stop arriving) are Hummingbird's
/// `HTTPConnectionStateHandler`'s to close.
///
/// A parse error in a request's body belongs to that request: its route reads the error from the
/// body and answers `400` (`RoomErrorMiddleware`), and the connection closes after that response.
/// Garbage after a complete request is answered with `400` once the responses owed are written.
/// Nothing is written after a connection's last answer.
///
/// A connection over the node's budget (``ConnectionBudget``) is refused: its first request head
/// is answered `503 too_many_connections`, then the connection is closed. (Answering the head,
/// rather than at once, lets the client's request be read first: closing a socket with unread
/// bytes resets it, and the client could lose the answer.)
///
/// At a graceful shutdown, a connection that owes no response is closed at once.
///
/// A WebSocket upgrade removes it (``RoomsHTTPChannel``): after the upgrade there is no HTTP left.
final class HTTPRequestGuard: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    /// What the connection does once the responses it owes are written.
    private enum Ending {
        /// It keeps serving requests.
        case open
        /// It closes after the response in progress.
        case closeAfterResponse
        /// It answers `400` after the responses owed, then closes.
        case refuseAfterResponses
        /// Its last answer is written or being written; later writes are dropped.
        case closing
    }

    private let headerTimeout: TimeAmount
    /// Whether the connection is over the budget: its first head is refused.
    private let overBudget: Bool
    private let timeoutMessage: String
    private var deadline: Scheduled<Void>?
    /// Requests whose head was read and whose response has not ended.
    private var owed = 0
    /// A request's head was read and its end not yet.
    private var readingRequest = false
    /// Whether the read in progress decoded a part; a read that decoded none fed a head in progress.
    private var decodedThisRead = false
    private var ending = Ending.open

    /// - Parameter overBudget: the connection is over the node's budget: refuse its first request.
    init(headerTimeout: Duration, overBudget: Bool = false) {
        self.headerTimeout = TimeAmount(headerTimeout)
        self.overBudget = overBudget
        let seconds = Double(headerTimeout.components.seconds) + Double(headerTimeout.components.attoseconds) / 1e18
        self.timeoutMessage = "no complete request head within \(seconds) seconds"
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { startDeadline(context: context) }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        cancelDeadline()
    }

    func channelActive(context: ChannelHandlerContext) {
        startDeadline(context: context)
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        cancelDeadline()
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        decodedThisRead = true
        guard !overBudget else {
            // Nothing of the request goes on: no route runs, no upgrade starts.
            if case .head = unwrapInboundIn(data), ending == .open {
                refuse(
                    context: context, status: .serviceUnavailable, code: .tooManyConnections,
                    message: "the server has as many connections open as it can take; retry later")
            }
            return
        }
        switch unwrapInboundIn(data) {
        case .head:
            cancelDeadline()
            owed += 1
            readingRequest = true
        case .body:
            break
        case .end:
            readingRequest = false
        }
        context.fireChannelRead(data)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        // Bytes arrived while no request was owed, and completed no head: the next request has
        // started and has the header timeout to complete its head.
        if !decodedThisRead, owed == 0 { startDeadline(context: context) }
        decodedThisRead = false
        context.fireChannelReadComplete()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        // The server is stopping: a connection that owes no response closes now, rather than
        // hold the shutdown until its client sends a request or its header deadline passes.
        // (With a request in progress, `HTTPConnectionStateHandler` closes it after the response.)
        if event is ChannelShouldQuiesceEvent, owed == 0, ending == .open {
            ending = .closing
            cancelDeadline()
            context.close(promise: nil)
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if error is HTTPParserError, ending == .open {
            if owed == 0 {
                refuse(
                    context: context, status: .badRequest, code: .malformedRequest,
                    message: "the request is not valid HTTP/1.1 (\(error))")
            } else if readingRequest {
                ending = .closeAfterResponse
            } else {
                ending = .refuseAfterResponses
            }
        }
        // Pass it on: the request in progress, if any, reads it from its body.
        context.fireErrorCaught(error)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        guard ending != .closing else {
            promise?.fail(ChannelError.ioOnClosedChannel)
            return
        }
        switch unwrapOutboundIn(data) {
        case .head(var head) where head.status.code >= 200 && ending == .closeAfterResponse && owed <= 1:
            // This response is the connection's last: say so.
            head.headers.replaceOrAdd(name: "connection", value: "close")
            context.write(wrapOutboundOut(.head(head)), promise: promise)
        case .head, .body:
            context.write(data, promise: promise)
        case .end:
            owed = max(0, owed - 1)
            guard owed == 0, ending != .open else {
                context.write(data, promise: promise)
                return
            }
            if ending == .refuseAfterResponses {
                context.write(data, promise: promise)
                refuse(
                    context: context, status: .badRequest, code: .malformedRequest,
                    message: "the bytes after the last request are not valid HTTP/1.1")
            } else {
                ending = .closing
                let written = context.eventLoop.makePromise(of: Void.self)
                if let promise { written.futureResult.cascade(to: promise) }
                context.writeAndFlush(data, promise: written)
                written.futureResult.assumeIsolated().whenComplete { _ in context.close(promise: nil) }
            }
        }
    }

    /// Writes the connection's last answer, an error with a JSON body, and closes once it is written.
    private func refuse(context: ChannelHandlerContext, status: HTTPResponseStatus, code: RoomError.Code, message: String) {
        ending = .closing
        cancelDeadline()
        let body = ErrorResponse.body(code: code, message: message)
        let headers = HTTPHeaders([
            ("content-type", "application/json"), ("content-length", String(body.readableBytes)),
            ("connection", "close"),
        ])
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: status, headers: headers))), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil))).assumeIsolated().whenComplete { _ in
            context.close(promise: nil)
        }
    }

    private func startDeadline(context: ChannelHandlerContext) {
        guard deadline == nil, ending == .open else { return }
        deadline = context.eventLoop.assumeIsolated().scheduleTask(in: headerTimeout) { [self] in
            deadline = nil
            guard owed == 0, ending == .open else { return }
            refuse(
                context: context, status: .requestTimeout, code: .requestTimeout,
                message: timeoutMessage)
        }
    }

    private func cancelDeadline() {
        deadline?.cancel()
        deadline = nil
    }
}
