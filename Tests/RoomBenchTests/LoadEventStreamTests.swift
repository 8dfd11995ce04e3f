import NIOCore
import NIOEmbedded
import TestSupport
import Testing

@testable import RoomBench

/// The harness reads Server-Sent Events line by line from the socket (LoadEventStream): these
/// feed it a chunked response as a server sends it, cut at every byte.
@Suite("rooms bench: the harness's event stream reader", .watched)
struct LoadEventStreamTests {
    func stream() throws -> (EmbeddedChannel, LoadEventStream, EventLoopFuture<Void>) {
        let stats = LoopStats()
        stats.measuring = true
        let channel = EmbeddedChannel()
        let opened = channel.eventLoop.makePromise(of: Void.self)
        let handler = LoadEventStream(stats: stats, host: "127.0.0.1", path: "/rooms/chat/x/events?user=a", opened: opened)
        try channel.pipeline.syncOperations.addHandler(handler)
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 9)).wait()
        return (channel, handler, opened.futureResult)
    }

    func response(stamp: UInt64) -> [UInt8] {
        let head = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n"
        let welcome = "event: welcome\ndata: {\"type\":\"welcome\",\"lastSeq\":0}\n\n"
        let events = (1...2).map { seq in
            "event: message\nid: \(seq)\ndata: {\"type\":\"message\",\"seq\":\(seq),\"text\":\"\(Stamp.text(size: 40, at: stamp))\"}\n\n"
        }.joined()
        let chunk = { (text: String) in String(text.utf8.count, radix: 16) + "\r\n" + text + "\r\n" }
        return Array((head + chunk(welcome) + chunk(events) + ": keep-alive\n\n").utf8)
    }

    @Test("it sends its request, opens on 200, and counts each message event once however the reads cut the bytes")
    func cutEverywhere() throws {
        let (channel, handler, opened) = try stream()
        let request = try channel.readOutbound(as: ByteBuffer.self).map { String(buffer: $0) } ?? ""
        #expect(request.hasPrefix("GET /rooms/chat/x/events?user=a HTTP/1.1\r\n"))
        let bytes = response(stamp: Stamp.now)
        try channel.writeInbound(ByteBuffer(bytes: bytes))
        try opened.wait()
        #expect(handler.stats.deliveries == 2)
        // The same bytes again, cut in two at every place (the status line counts only once).
        for cut in 1..<bytes.count {
            try channel.writeInbound(ByteBuffer(bytes: bytes[..<cut]))
            try channel.writeInbound(ByteBuffer(bytes: bytes[cut...]))
        }
        #expect(handler.stats.deliveries == 2 + 2 * (bytes.count - 1))
        #expect(handler.stats.errors == 0)
    }

    @Test("a refusal fails the opening; a close event counts as an error")
    func refusedAndClosed() throws {
        let (channel, _, opened) = try stream()
        try channel.writeInbound(ByteBuffer(string: "HTTP/1.1 403 Forbidden\r\ncontent-length: 0\r\n\r\n"))
        #expect(throws: BenchError.self) { try opened.wait() }

        let (other, handler, otherOpened) = try stream()
        try other.writeInbound(ByteBuffer(string: "HTTP/1.1 200 OK\r\n\r\nevent: close\ndata: {}\n\n"))
        try otherOpened.wait()
        #expect(handler.stats.errors == 1)
    }
}
