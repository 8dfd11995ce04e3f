import NIOCore
import NIOHTTP1
import NIOPosix

/// A keep-alive HTTP/1.1 connection that sends one request at a time (the `ingest` writers and
/// the `activation` wake-ups).
final class HTTPLoadConnection: ChannelDuplexHandler, @unchecked Sendable {
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundIn = Never
    typealias OutboundOut = HTTPClientRequestPart

    private var channel: (any Channel)?
    /// The loop the connection runs on.
    let eventLoop: any EventLoop
    private var pending: EventLoopPromise<(status: Int, body: ByteBuffer)>?
    private var status = 0
    private var body = ByteBuffer()
    private let host: String

    private init(host: String, eventLoop: any EventLoop) {
        self.host = host
        self.eventLoop = eventLoop
    }

    /// Connects to `host:port` on `loop`.
    static func connect(host: String, port: Int, on loop: any EventLoop) async throws -> HTTPLoadConnection {
        let handler = HTTPLoadConnection(host: host, eventLoop: loop)
        _ = try await ClientBootstrap(group: loop)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
                    try channel.pipeline.syncOperations.addHandler(handler)
                }
            }
            .connect(host: host, port: port).get()
        return handler
    }

    func handlerAdded(context: ChannelHandlerContext) {
        channel = context.channel
    }

    /// Sends a request with a JSON body; the future holds the response status (call on the loop).
    func request(_ method: HTTPMethod, _ path: String, body: String? = nil) -> EventLoopFuture<Int> {
        fetch(method, path, body: body).map(\.status)
    }

    /// Sends a request; the future holds the response's status and body (call on the loop).
    func fetch(_ method: HTTPMethod, _ path: String, body: String? = nil)
        -> EventLoopFuture<(status: Int, body: ByteBuffer)>
    {
        guard let channel else { fatalError("not connected") }
        // A connection the server closed while it was idle (its HTTP idle timeout) fails at once,
        // rather than waiting for an answer that cannot come.
        guard channel.isActive else {
            return channel.eventLoop.makeFailedFuture(BenchError("the server closed an idle HTTP connection"))
        }
        let promise = channel.eventLoop.makePromise(of: (status: Int, body: ByteBuffer).self)
        precondition(pending == nil, "one request at a time")
        pending = promise
        var headers = HTTPHeaders()
        headers.add(name: "Host", value: host)
        var buffer: ByteBuffer?
        if let body {
            buffer = channel.allocator.buffer(string: body)
            headers.add(name: "Content-Type", value: "application/json")
        }
        headers.add(name: "Content-Length", value: "\(buffer?.readableBytes ?? 0)")
        channel.write(NIOAny(HTTPClientRequestPart.head(HTTPRequestHead(version: .http1_1, method: method, uri: path, headers: headers))), promise: nil)
        if let buffer { channel.write(NIOAny(HTTPClientRequestPart.body(.byteBuffer(buffer))), promise: nil) }
        channel.writeAndFlush(NIOAny(HTTPClientRequestPart.end(nil)), promise: nil)
        return promise.futureResult
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            status = Int(head.status.code)
            body.clear()
        case .body(var part):
            body.writeBuffer(&part)
        case .end:
            let promise = pending
            pending = nil
            promise?.succeed((status, body))
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        pending?.fail(BenchError("the server closed an HTTP connection"))
        pending = nil
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        pending?.fail(error)
        pending = nil
        context.close(promise: nil)
    }

    func close() {
        channel?.close(promise: nil)
    }
}
