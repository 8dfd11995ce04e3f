import NIOCore

/// One benchmark Server-Sent Events listener (`GET /rooms/chat/{id}/events`): a channel handler
/// that writes the request itself and reads the response's bytes as lines, recording the stamp of
/// every `message` event in its loop's stats, as ``LoadSocket`` does for frames.
///
/// It reads lines straight from the socket rather than through an HTTP client, for the same
/// reason ``LoadSocket`` reads frames itself: the harness shares two cores with the server it
/// measures. The response is chunked, one chunk per event (the server writes each event at
/// once), so a chunk's size line is one more line without a stamp and is skipped like the
/// `event:` and `id:` lines.
final class LoadEventStream: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    let stats: LoopStats
    private let request: String
    /// Bytes of a line not complete yet.
    private var pending: ByteBuffer?
    /// Whether the status line said 200.
    private(set) var opened: EventLoopPromise<Void>?

    private static let textKey = Array(#""text":""#.utf8)
    private static let dataPrefix = Array("data: ".utf8)

    init(stats: LoopStats, host: String, path: String, opened: EventLoopPromise<Void>) {
        self.stats = stats
        self.request = "GET \(path) HTTP/1.1\r\nHost: \(host)\r\nAccept: text/event-stream\r\n\r\n"
        self.opened = opened
    }

    func channelActive(context: ChannelHandlerContext) {
        var buffer = context.channel.allocator.buffer(capacity: request.utf8.count)
        buffer.writeString(request)
        context.writeAndFlush(wrapOutboundOut(buffer), promise: nil)
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var incoming = unwrapInboundIn(data)
        if var pending = self.pending {
            self.pending = nil
            pending.writeBuffer(&incoming)
            incoming = pending
        }
        incoming.withUnsafeReadableBytes { bytes in
            var start = 0
            while let newline = bytes[start...].firstIndex(of: 0x0A) {
                line(UnsafeRawBufferPointer(rebasing: bytes[start..<newline]), context: context)
                start = newline + 1
            }
            incoming.moveReaderIndex(forwardBy: start)
        }
        if incoming.readableBytes > 0 {
            incoming.discardReadBytes()
            pending = incoming
        }
    }

    private func line(_ bytes: UnsafeRawBufferPointer, context: ChannelHandlerContext) {
        if let opened {
            // The status line comes first.
            self.opened = nil
            if bytes.starts(with: "HTTP/1.1 200".utf8) {
                opened.succeed()
            } else {
                opened.fail(BenchError("the server refused the event stream: \(String(decoding: bytes, as: UTF8.self))"))
                context.close(promise: nil)
            }
            return
        }
        guard bytes.starts(with: Self.dataPrefix) else {
            if bytes.starts(with: "event: close".utf8), stats.measuring { stats.errors += 1 }
            return
        }
        if let start = Stamp.offset(after: Self.textKey, in: bytes), let stamp = Stamp.parse(bytes, from: start) {
            stats.record(latencyMicros: Stamp.now &- stamp)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        opened?.fail(BenchError("the event stream closed before it opened"))
        opened = nil
        if stats.measuring { stats.errors += 1 }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}
