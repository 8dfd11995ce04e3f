import DequeModule
@_spi(Node) import RoomRuntime
import TestSupport
import Testing

@testable import RoomServer

@Suite("Server-Sent Events queue", .watched)
struct EventStreamTransportTests {
    static func texts(_ items: Deque<EventStreamTransport.Item>?) -> [String] {
        (items ?? []).map { item in
            switch item {
            case .frame(let frame): frame.text
            case .keepAlive: "keep-alive"
            case .close(let code, let reason): "close \(code.rawValue) \(reason)"
            }
        }
    }

    @Test("what was queued comes out in one batch, in order; a waiting reader wakes on the next frame")
    func batches() async {
        let transport = EventStreamTransport(limit: 10)
        transport.send(.text("a"))
        transport.send(.text("b"))
        transport.keepAlive()
        #expect(Self.texts(await transport.next()) == ["a", "b", "keep-alive"])
        let waiting = Task { await transport.next() }
        try? await Task.sleep(for: .milliseconds(50))
        transport.send(.text("c"))
        #expect(Self.texts(await waiting.value) == ["c"])
    }

    @Test("a reader that falls `limit` frames behind gets the slow_consumer close after them, and nothing more")
    func slowConsumer() async {
        let transport = EventStreamTransport(limit: 3)
        for index in 1...5 { transport.send(.text("\(index)")) }
        #expect(transport.isClosing)
        #expect(Self.texts(await transport.next()) == ["1", "2", "3", "close 1013 slow_consumer"])
        #expect(await transport.next() == nil, "the stream is over")
    }

    @Test("the limit counts frames not yet taken: a reader that keeps up is never closed")
    func keepingUp() async {
        let transport = EventStreamTransport(limit: 3)
        for round in 0..<10 {
            for index in 0..<3 { transport.send(.text("\(round)-\(index)")) }
            #expect(Self.texts(await transport.next()).count == 3)
        }
        #expect(!transport.isClosing)
    }

    @Test("a close ends the stream after what was queued; end() wakes a waiting reader with nil")
    func ending() async {
        let transport = EventStreamTransport(limit: 10)
        transport.send(.text("last"))
        transport.close(code: .roomDeleted, reason: "room_deleted")
        transport.send(.text("dropped"))
        #expect(Self.texts(await transport.next()) == ["last", "close 4404 room_deleted"])
        #expect(await transport.next() == nil)

        let other = EventStreamTransport(limit: 10)
        let waiting = Task { await other.next() }
        try? await Task.sleep(for: .milliseconds(50))
        other.end()
        #expect(await waiting.value == nil)
    }
}
