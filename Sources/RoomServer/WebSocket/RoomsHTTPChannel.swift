import HTTPTypes
import HummingbirdCore
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOHTTPTypes
import NIOHTTPTypesHTTP1
import NIOWebSocket
@_spi(Node) import RoomRuntime

/// An HTTP/1.1 connection that may upgrade to a WebSocket.
///
/// This is Hummingbird's `HTTP1WebSocketUpgradeChannel` with the changes the protocol needs:
///
/// - an upgraded connection is run by a ``WebSocketHandler`` in its channel, with no task per
///   connection, speaking the room protocol or STOMP (the subprotocol it chose is answered);
/// - an upgrade request that is refused (an unknown kind, a malformed room id or user) is answered
///   with the documented status and JSON error body, where the stock channel always answers a
///   bare `400`;
/// - a request the parser refuses, and a request head that takes too long, are answered (`400`,
///   `408`) and the connection closed by ``HTTPRequestGuard``: the stock channel leaves such a
///   connection open with no answer, since its upgrade handler waits for a request head forever;
/// - a first request that names an `Upgrade` but is no WebSocket handshake is answered as plain
///   HTTP (``UpgradeRequestFilter``), where the stock channel closes it without an answer;
/// - a connection idle between requests is closed after the configured idle timeout;
/// - a connection over the node's ``ConnectionBudget`` is refused with `503`.
struct RoomsHTTPChannel: ServerChildChannel, HTTPChannelHandler {
    /// Decides an upgrade from the request head: the session to run on the WebSocket, or the error
    /// that refuses it.
    typealias Upgrade = @Sendable (HTTPRequestHead) async -> Result<WebSocketSession, RoomError>

    enum UpgradeResult: Sendable {
        /// Upgraded: the socket's handler runs it from now on.
        case websocket
        case http(NIOAsyncChannel<HTTPRequestPart, HTTPResponsePart>)
        case refused(NIOAsyncChannel<HTTPRequestPart, HTTPResponsePart>, RoomError)
    }

    struct Value: ServerChildChannelValue {
        let upgradeResult: EventLoopFuture<UpgradeResult>
        let channel: any Channel
    }

    /// The first receive buffer of a connection, in bytes: an upgrade request's usual size.
    static let initialReceiveBuffer = 512
    /// The HTTP responder for requests that do not upgrade.
    let responder: Responder
    private let upgrade: Upgrade
    private let maxFrameSize: Int
    private let http1: HTTP1Channel.Configuration
    /// How long a client has to complete a request head.
    private let requestHeaderTimeout: Duration
    /// How long a connection may wait for its next request, or for more of a request body.
    private let idleTimeout: Duration
    /// The node's open connections and how many it takes.
    private let budget: ConnectionBudget

    init(
        responder: @escaping Responder, maxFrameSize: Int,
        requestHeaderTimeout: Duration, idleTimeout: Duration, budget: ConnectionBudget, upgrade: @escaping Upgrade
    ) {
        self.budget = budget
        self.responder = responder
        self.upgrade = upgrade
        self.maxFrameSize = maxFrameSize
        self.requestHeaderTimeout = requestHeaderTimeout
        self.idleTimeout = idleTimeout
        self.http1 = HTTP1Channel.Configuration()
    }

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        channel.eventLoop.makeCompletedFuture {
            // A socket keeps its last receive buffer for the next read (NIO's pooled receive
            // buffers): starting small keeps an idle WebSocket's at 512 bytes rather than 2 KiB.
            // It doubles with each read that fills it, up to 64 KiB, for sockets that send much.
            try channel.syncOptions?.setOption(
                ChannelOptions.recvAllocator,
                value: AdaptiveRecvByteBufferAllocator(minimum: 64, initial: Self.initialReceiveBuffer, maximum: 65_536))
            let admitted = budget.admit(channel)
            let requestGuard = NIOLoopBound(
                HTTPRequestGuard(headerTimeout: requestHeaderTimeout, overBudget: !admitted),
                eventLoop: channel.eventLoop)
            let refusal = NIOLoopBoundBox<RoomError?>(nil, eventLoop: channel.eventLoop)
            let chosen = NIOLoopBoundBox<WebSocketSession?>(nil, eventLoop: channel.eventLoop)
            let upgrader = NIOTypedWebSocketServerUpgrader<UpgradeResult>(
                maxFrameSize: maxFrameSize,
                // The socket's handler answers the decoder's errors itself (one handler fewer per socket).
                enableAutomaticErrorHandling: false,
                shouldUpgrade: { channel, head in
                    // Deciding may verify a token and ask the room (async); the rest of the
                    // decision runs back on the channel's event loop.
                    channel.eventLoop.makeFutureWithTask { await upgrade(head) }.map { decision -> HTTPHeaders? in
                        switch decision {
                        case .success(let session):
                            chosen.value = session
                            // The connection stops being HTTP now: the guard goes before the
                            // decoder does, or bytes of WebSocket frames would reach it.
                            channel.pipeline.syncOperations.removeHandler(requestGuard.value, promise: nil)
                            var headers = HTTPHeaders()
                            if let subprotocol = session.subprotocol {
                                headers.add(name: "Sec-WebSocket-Protocol", value: subprotocol)
                            }
                            return headers
                        case .failure(let error):
                            refusal.value = error
                            return nil
                        }
                    }
                },
                upgradePipelineHandler: { channel, _ in
                    channel.eventLoop.makeCompletedFuture {
                        let session = chosen.value!
                        let handler = WebSocketHandler(settings: session.settings)
                        try channel.pipeline.syncOperations.addHandler(handler)
                        handler.open(
                            session.makeApplication(), context: try channel.pipeline.syncOperations.context(handler: handler))
                        return UpgradeResult.websocket
                    }
                })
            let upgradeConfiguration = NIOTypedHTTPServerUpgradeConfiguration(
                upgraders: [upgrader],
                notUpgradingCompletionHandler: { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(HTTP1ToHTTPServerCodec(secure: false))
                        try channel.pipeline.syncOperations.addHandler(
                            HTTPConnectionStateHandler(idleTimeout: idleTimeout, logger: logger))
                        let asyncChannel = try NIOAsyncChannel<HTTPRequestPart, HTTPResponsePart>(
                            wrappingChannelSynchronously: channel,
                            configuration: .init(isOutboundHalfClosureEnabled: true))
                        if let error = refusal.value { return UpgradeResult.refused(asyncChannel, error) }
                        return UpgradeResult.http(asyncChannel)
                    }
                })
            var pipeline = NIOUpgradableHTTPServerPipelineConfiguration<UpgradeResult>(
                upgradeConfiguration: upgradeConfiguration)
            pipeline.enablePipelining = false
            pipeline.enableErrorHandling = false
            pipeline.enableResponseHeaderValidation = false
            pipeline.decoderConfiguration.maxHeaderFieldSize = http1.httpDecoder.maxHeaderFieldSize
            pipeline.decoderConfiguration.maxHeaderListSize = http1.httpDecoder.maxHeaderListSize
            pipeline.decoderConfiguration.maxHeaderFieldCount = http1.httpDecoder.maxHeaderFieldCount
            let result = try channel.pipeline.syncOperations.configureUpgradableHTTPServerPipeline(
                configuration: pipeline)
            // The guard goes right after the request decoder, where NIO's error handler would
            // (`enableErrorHandling`, off: see HTTPRequestGuard for why).
            let decoder = try channel.pipeline.syncOperations.handler(type: ByteToMessageHandler<HTTPRequestDecoder>.self)
            try channel.pipeline.syncOperations.addHandler(requestGuard.value, position: .after(decoder))
            try channel.pipeline.syncOperations.addHandler(UpgradeRequestFilter(), position: .after(requestGuard.value))
            return Value(upgradeResult: result, channel: channel)
        }
    }

    func handle(value: Value, logger: Logger) async {
        do {
            switch try await value.upgradeResult.get() {
            case .http(let http1):
                await handleHTTP(asyncChannel: http1, logger: logger)
            case .refused(let http1, let error):
                // The upgrade handler consumed the request head: answer here, and close.
                let body = ErrorResponse.body(for: error)
                var headers = ErrorResponse.headers(for: error)
                headers[.contentType] = "application/json"
                headers[.contentLength] = String(body.readableBytes)
                headers[.connection] = "close"
                let head = HTTPResponse(status: ErrorResponse.status(for: error.category), headerFields: headers)
                try await http1.executeThenClose { _, outbound in
                    try await outbound.write(contentsOf: [.head(head), .body(body), .end(nil)])
                }
            case .websocket:
                // The socket's handler runs the connection; this task ends here.
                break
            }
        } catch let error as ChannelError where error == .inputClosed {
            logger.trace("connection closed before the upgrade")
        } catch {
            logger.debug("connection ended with an error", metadata: ["error": "\(error)"])
        }
    }
}
