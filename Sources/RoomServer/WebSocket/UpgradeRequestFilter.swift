import NIOCore
import NIOHTTP1

/// Drops the `Upgrade` header of a connection's first request when that request is not a
/// complete WebSocket handshake, so that it is answered as the plain HTTP request it is.
///
/// NIO's typed upgrade handler (swift-nio 2.101) does not keep the head of a request that names an
/// `Upgrade` no upgrader takes (`Upgrade: h2c` from `curl --http2`, `Upgrade: websocket` without
/// `Connection: upgrade` or a key, or with a body): the connection then closed with no answer,
/// or a bare `400`, where every error has a documented JSON body. RFC 9110 lets a server ignore
/// `Upgrade`; a handshake (RFC 6455: a GET without body, `Connection: upgrade`, `Upgrade:
/// websocket`, a key and a version) keeps it. Only the first request can upgrade, so the filter
/// leaves the pipeline after it.
final class UpgradeRequestFilter: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard case .head(var head) = unwrapInboundIn(data) else { return context.fireChannelRead(data) }
        if head.headers.contains(name: "upgrade"), !Self.isWebSocketHandshake(head) {
            head.headers.remove(name: "upgrade")
            context.fireChannelRead(wrapInboundOut(.head(head)))
        } else {
            context.fireChannelRead(data)
        }
        context.pipeline.syncOperations.removeHandler(self, promise: nil)
    }

    /// Whether `head` asks for a WebSocket as RFC 6455 says to.
    static func isWebSocketHandshake(_ head: HTTPRequestHead) -> Bool {
        let headers = head.headers
        let connection = headers[canonicalForm: "connection"].map { $0.lowercased() }
        let upgrade = headers[canonicalForm: "upgrade"].map { $0.lowercased() }
        let bodyLength = headers.first(name: "content-length").flatMap { Int($0) } ?? 0
        return head.method == .GET && connection.contains("upgrade") && upgrade.contains("websocket")
            && headers.contains(name: "sec-websocket-key") && headers.contains(name: "sec-websocket-version")
            && bodyLength == 0 && !headers.contains(name: "transfer-encoding")
    }
}
