import Foundation
import RoomTesting
import TestSupport
import Testing

@_spi(Node) @testable import RoomRuntime

/// A room that runs work outside its turns.
///
/// Text frames: `ticks:N` starts work that reports N ticks, 20 ms apart, then `done`; `forever`
/// starts work that ticks until it is cancelled. A room whose kv holds `autostart` starts a tick
/// in `onStart`. Every report broadcasts `{"type":"tick"|"done"|"started", ...}`; the work's end
/// (cancelled or not) and `onHibernate` (with whether the work still ran) go to ``log``.
final class WorkRoom: Room {
    static let className = "work"
    static let log = EventLog<String>()
    private var forever: WorkHandle?

    init(options: NoOptions) {}

    func onStart(_ activation: Activation, context: isolated RoomContext) async throws {
        guard try context.storage.kv.get("autostart", as: Bool.self) == true else { return }
        context.startWork(WorkRoom.self) { work in
            work.report { _, context in context.broadcast(.text(#"{"type":"started"}"#)) }
        }
    }

    func onMessage(_ message: ClientMessage, from connection: RoomConnection, context: isolated RoomContext)
        async throws
    {
        guard case .text(let text) = message else { return }
        let id = context.id
        if text.hasPrefix("ticks:"), let count = Int(text.dropFirst(6)) {
            context.startWork(WorkRoom.self) { work in
                for index in 0..<count {
                    try? await Task.sleep(for: .milliseconds(20))
                    work.report { _, context in context.broadcast(.text(#"{"type":"tick","n":\#(index)}"#)) }
                }
                work.report { _, context in context.broadcast(.text(#"{"type":"done"}"#)) }
            }
        } else if text == "forever" {
            forever = context.startWork(WorkRoom.self) { work in
                while !work.isCancelled {
                    try? await Task.sleep(for: .milliseconds(20))
                    work.report { _, context in context.broadcast(.text(#"{"type":"tick"}"#)) }
                }
                WorkRoom.log.append("cancelled", for: id)
            }
        } else if text == "autostart" {
            try context.storage.kv.set("autostart", true)
        }
    }

    func onHibernate(context: isolated RoomContext) async throws {
        let running = forever.map { context.isRunning($0) } ?? false
        Self.log.append("hibernate(running: \(running))", for: context.id)
    }
}

@Suite("Work outside turns", .watched)
struct WorkTests {
    static func rooms() throws -> TestRuntime {
        try TestRuntime(WorkRoom.self) { $0.idleTimeout = .milliseconds(30) }
    }

    @Test("work reports back as turns, in order, and keeps its room in memory while it runs")
    func reportsInOrder() async throws {
        let rooms = try Self.rooms()
        let ann = try rooms.connect("w1", user: "ann")
        await ann.send("ticks:10")
        try await ann.waitFor(ofType: "done")
        #expect(ann.frames(ofType: "tick").map { $0["n"] as? Int } == Array(0..<10))
        // 10 ticks of 20 ms outlast the 30 ms idle timeout: the room stayed in memory (a room that
        // had left would have dropped the reports).
        try await eventually("the room hibernated once the work ended") { try !rooms.info("w1").active }
        await rooms.stopAndRemove()
    }

    @Test("work is cancelled when its room leaves memory, before onHibernate")
    func cancelledAtHibernation() async throws {
        let rooms = try Self.rooms()
        let id = "w2-\(UUID().uuidString.prefix(6))"
        let ann = try rooms.connect(id, user: "ann")
        await ann.send("forever")
        try await ann.waitFor(2, ofType: "tick")
        try await rooms.hibernate(id)
        try await eventually("the work saw its cancellation") { WorkRoom.log.entries(for: id).contains("cancelled") }
        #expect(WorkRoom.log.entries(for: id).first == "hibernate(running: false)")
        let ticks = ann.frames(ofType: "tick").count
        try await Task.sleep(for: .milliseconds(100))
        #expect(ann.frames(ofType: "tick").count == ticks, "reports after hibernation were dropped")
        await rooms.stopAndRemove()
    }

    @Test("work started in onStart reports once the room is active; nothing is dropped")
    func startedInOnStart() async throws {
        let rooms = try Self.rooms()
        let ann = try rooms.connect("w3", user: "ann")
        await ann.send("autostart")
        try await rooms.hibernate("w3")
        await ann.send("wake")
        try await ann.waitFor(ofType: "started")
        await rooms.stopAndRemove()
    }
}
