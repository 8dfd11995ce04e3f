import RoomRuntime
import Testing

@testable import RoomServer

@Suite("Outbox: the bounded queue to one socket")
struct OutboxTests {
    func texts(_ items: [Outbox.Item]?) -> [String] {
        (items ?? []).map { item in
            switch item {
            case .frame(let frame): frame.text
            case .close(let code, let reason): "close \(code) \(reason)"
            }
        }
    }

    @Test("frames come out in order, in batches")
    func order() async {
        let outbox = Outbox(limit: 10)
        outbox.send(.text("a"))
        outbox.send(.text("b"))
        #expect(texts(await outbox.next()) == ["a", "b"])
        outbox.send(.text("c"))
        #expect(texts(await outbox.next()) == ["c"])
    }

    @Test("a waiting writer wakes for the next frame")
    func wakesWriter() async {
        let outbox = Outbox(limit: 10)
        async let next = outbox.next()
        try? await Task.sleep(for: .milliseconds(20))
        outbox.send(.text("late"))
        #expect(texts(await next) == ["late"])
    }

    @Test("a client that falls behind is dropped with 1013, and nothing more is queued for it")
    func overflow() async {
        let outbox = Outbox(limit: 3)
        for index in 0..<3 { outbox.send(.text("\(index)")) }
        outbox.send(.text("one too many"))
        outbox.send(.text("after"))
        #expect(texts(await outbox.next()) == ["close 1013 slow_consumer"])
    }

    @Test("nothing is sent after a close, and finish ends the writer")
    func closeAndFinish() async {
        let outbox = Outbox(limit: 10)
        outbox.send(.text("last"))
        outbox.close(code: .goingAway, reason: "bye")
        outbox.send(.text("dropped"))
        #expect(texts(await outbox.next()) == ["last", "close 1001 bye"])
        outbox.finish()
        #expect(await outbox.next() == nil)
    }
}
