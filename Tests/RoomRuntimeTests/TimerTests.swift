import Foundation
import RoomTesting
import TestSupport
import Testing

@_spi(Node) @testable import RoomRuntime

/// A room that sets timers and adds to its welcome.
///
/// Text frames: `set:NAME:MS` sets timer NAME; `cancel:NAME` cancels it. Every firing broadcasts
/// `{"type":"fired","name"}`. The welcome carries `greeting` and tries to override `user`.
final class TimerRoom: Room {
    static let className = "timers"
    /// What happened to each room: `fired:NAME` and `hibernated`, in order.
    static let log = EventLog<String>()

    init(options: NoOptions) {}

    func welcome(for connection: RoomConnection, context: isolated RoomContext) async throws -> [String: JSONValue] {
        ["greeting": .string("hello \(connection.user)"), "user": "somebody else", "timers": .number(Double(context.connections.count))]
    }

    func onMessage(_ message: ClientMessage, from connection: RoomConnection, context: isolated RoomContext)
        async throws
    {
        guard case .text(let text) = message else { return }
        let parts = text.split(separator: ":").map(String.init)
        switch parts.first {
        case "set":
            context.setTimer(parts[1], after: .milliseconds(Int64(parts[2])!))
        case "cancel":
            let cancelled = context.cancelTimer(parts[1])
            context.send(.text(#"{"type":"cancelled","was":\#(cancelled)}"#), to: connection)
        default:
            break
        }
    }

    func onHibernate(context: isolated RoomContext) async throws {
        Self.log.append("hibernated", for: context.id)
    }

    func onTimer(_ name: String, context: isolated RoomContext) async throws {
        let stillSet = context.hasTimer(name)
        #expect(!stillSet, "a timer that fired is no longer set")
        Self.log.append("fired:\(name)", for: context.id)
        context.broadcast(.text(#"{"type":"fired","name":"\#(name)"}"#))
    }
}

@Suite("Room timers and welcome fields", .watched)
struct TimerTests {
    @Test("timers fire as turns, once; setting one again replaces it; cancelled ones never fire")
    func timersFire() async throws {
        let rooms = try TestRuntime(TimerRoom.self)
        let ann = try rooms.connect("t1", user: "ann")
        try await ann.waitFor(ofType: "welcome")
        await ann.send("set:a:30")
        await ann.send("set:b:400")
        await ann.send("set:b:60")  // replaces the 400 ms one
        await ann.send("set:c:50")
        await ann.send("cancel:c")
        await ann.send("cancel:zzz")
        try await ann.waitFor(2, ofType: "fired")
        try await Task.sleep(for: .milliseconds(500))
        #expect(ann.frames(ofType: "fired").map { $0["name"] as? String } == ["a", "b"])
        #expect(ann.frames(ofType: "cancelled").map { $0["was"] as? Bool } == [true, false])
        await rooms.stopAndRemove()
    }

    @Test("timers are dropped when the room leaves memory, and do not fire in its next activation")
    func droppedAtHibernation() async throws {
        let rooms = try TestRuntime(TimerRoom.self)
        let id = "t2-\(UUID().uuidString.prefix(6))"
        let ann = try rooms.connect(id, user: "ann")
        try await ann.waitFor(ofType: "welcome")
        await ann.send("set:late:1000")
        await ann.send("set:early:1")
        try await ann.waitFor(ofType: "fired")
        try await rooms.hibernate(id)
        // Woken again before the timer's time: the new activation has no timer either.
        await ann.send("wake")
        try await eventually("the room is active again") { try rooms.info(id).active }
        try await Task.sleep(for: .milliseconds(1_200))
        let log = TimerRoom.log.entries(for: id)
        #expect(log.first == "fired:early" && log.contains("hibernated"), "\(log)")
        // (On a machine so loaded that hibernating took a second, `late` fired before it: fine.)
        #expect(!log.drop { $0 != "hibernated" }.contains("fired:late"), "\(log)")
        await rooms.stopAndRemove()
    }

    @Test("the welcome carries the room's fields; the runtime's own win")
    func welcomeFields() async throws {
        let rooms = try TestRuntime(TimerRoom.self)
        let ann = try rooms.connect("t3", user: "ann")
        let welcome = try await ann.waitFor(ofType: "welcome")[0]
        #expect(welcome["greeting"] as? String == "hello ann")
        #expect(welcome["user"] as? String == "ann")
        #expect(welcome["timers"] as? Int == 1, "the connection is among the room's connections: \(welcome)")
        #expect(welcome["kind"] as? String == "timers" && welcome["lastSeq"] as? Int == 0)
        await rooms.stopAndRemove()
    }
}
