import NIOCore
import NIOEmbedded
import NIOWebSocket
@_spi(Node) import RoomRuntime
import Synchronization
import TestSupport
import Testing

@testable import RoomServer

@Suite("Outbox: the bounded queue to one socket", .watched)
struct OutboxTests {
    /// An outbox on an embedded channel, the texts written to it, and the closes it hands to the
    /// socket's handler.
    final class Fixture {
        let channel = EmbeddedChannel()
        let outbox: Outbox
        let log = CloseLog()

        init(limit: Int) {
            outbox = Outbox(channel: channel, limit: limit)
            try! channel.pipeline.syncOperations.addHandler(CloseRecorder(log: log))
        }

        /// The closes handed over so far, as "CODE reason" (events already run on the loop).
        var closes: [String] { log.closes.withLock { $0 } }

        /// Runs the loop and returns the frames written since the last call.
        func written() throws -> [String] {
            channel.embeddedEventLoop.run()
            var texts: [String] = []
            while let frame = try channel.readOutbound(as: WebSocketFrame.self) {
                texts.append(String(buffer: frame.data))
            }
            return texts
        }
    }

    final class CloseLog: Sendable {
        let closes = Mutex<[String]>([])
    }

    /// Records the ``SocketEvent/sendClose(_:_:)`` events the outbox fires, in place of the
    /// socket's handler.
    final class CloseRecorder: ChannelInboundHandler {
        typealias InboundIn = NIOAny
        let log: CloseLog

        init(log: CloseLog) { self.log = log }

        func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
            if case .sendClose(let code, let reason) = event as? SocketEvent {
                log.closes.withLock { $0.append("\(code.rawValue) \(reason)") }
            }
        }
    }

    @Test("frames are written in order, on the socket's loop, in batches")
    func order() throws {
        let fixture = Fixture(limit: 10)
        fixture.outbox.send(.text("a"))
        fixture.outbox.send(.text("b"))
        #expect(fixture.outbox.queued == 2, "nothing is written off the loop")
        #expect(try fixture.written() == ["a", "b"])
        fixture.outbox.send(.text("c"))
        #expect(try fixture.written() == ["c"])
    }

    @Test("a socket that is not writable keeps its frames until it is again")
    func writability() async throws {
        let fixture = Fixture(limit: 10)
        fixture.channel.isWritable = false
        fixture.outbox.send(.text("held"))
        #expect(try fixture.written().isEmpty)
        #expect(fixture.outbox.queued == 1)
        fixture.channel.isWritable = true
        fixture.outbox.resume()
        #expect(try fixture.written() == ["held"])
    }

    @Test("a client that falls behind is dropped with 1013, and nothing more is queued for it")
    func overflow() async throws {
        let fixture = Fixture(limit: 3)
        fixture.channel.isWritable = false
        for index in 0..<3 { fixture.outbox.send(.text("\(index)")) }
        fixture.outbox.send(.text("one too many"))
        fixture.outbox.send(.text("after"))
        fixture.channel.embeddedEventLoop.run()
        #expect(fixture.closes == ["1013 slow_consumer"])
        fixture.channel.isWritable = true
        fixture.outbox.resume()
        #expect(try fixture.written().isEmpty)
    }

    @Test("a close comes after the frames queued before it; nothing is sent after it, or after finish")
    func closeAndFinish() async throws {
        let fixture = Fixture(limit: 10)
        fixture.outbox.send(.text("last"))
        fixture.outbox.close(code: .goingAway, reason: "bye")
        fixture.outbox.send(.text("dropped"))
        #expect(fixture.closes.isEmpty, "not before the frames queued before it")
        #expect(try fixture.written() == ["last"])
        #expect(fixture.closes == ["1001 bye"])
        fixture.outbox.finish()
        fixture.outbox.close(code: .normal, reason: "again")
        fixture.channel.embeddedEventLoop.run()
        #expect(fixture.closes == ["1001 bye"])
    }
}
