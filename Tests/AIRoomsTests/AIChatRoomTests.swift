import AIRooms
import Foundation
import RoomRuntime
import RoomTesting
import TestSupport
import Testing

/// The `ai-chat` class driven in process through RoomTesting, with the local provider.
@Suite("AIChatRoom", .watched)
struct AIChatRoomTests {
    static func rooms(tokensPerSecond: Double = 0, maxTokens: Int = 256, idle: Duration = .seconds(60)) throws
        -> TestRuntime
    {
        try TestRuntime(
            AIChatRoom.self,
            options: [
                "provider": .object([
                    "type": .string("local"), "tokensPerSecond": .number(tokensPerSecond),
                    "maxTokens": .number(Double(maxTokens)),
                ]),
                "checkpointMilliseconds": .number(10),
            ]
        ) { $0.idleTimeout = idle }
    }

    static func prompt(_ text: String, id: String) -> String {
        #"{"type": "ai.prompt", "id": "\#(id)", "text": "\#(text)"}"#
    }

    @Test("a prompt is stored, answered as a stream, and the answer stored with its fields")
    func answer() async throws {
        let rooms = try Self.rooms()
        let ann = try rooms.connect("r", user: "ann")
        await ann.send(Self.prompt("hello", id: "p1"))
        let end = try await ann.waitFor(ofType: "ai.end")[0]
        #expect(end["status"] as? String == "complete")
        let deltas = ann.frames(ofType: "ai.delta")
        #expect(deltas.map { $0["index"] as? Int } == Array(0..<deltas.count))
        let streamed = deltas.compactMap { $0["text"] as? String }.joined()
        let history = try await rooms.request("r", "GET", ["messages"]).json["messages"] as? [[String: Any]] ?? []
        #expect(history.count == 2)
        #expect(history.last?["text"] as? String == streamed)
        #expect(history.last?["replyTo"] as? Int == 1)
        #expect(history.last?["status"] as? String == "complete")
        #expect(history.last?["stream"] as? String == end["stream"] as? String)
        await rooms.stopAndRemove()
    }

    @Test("once nothing is owed, the room hibernates and nothing wakes it")
    func hibernatesWhenDone() async throws {
        let rooms = try Self.rooms()
        let ann = try rooms.connect("quiet", user: "ann")
        await ann.send(Self.prompt("hi", id: "p1"))
        try await ann.waitFor(ofType: "ai.end")
        try await rooms.hibernate("quiet")
        // The owed-answers schedule fires every second while it exists: a room left with one
        // would be back in memory within that.
        try await Task.sleep(for: .milliseconds(2_500))
        #expect(try !rooms.info("quiet").active)
        await rooms.stopAndRemove()
    }

    @Test("an answer interrupted before its first delta is owed again: the room wakes by itself and answers it")
    func interruptedBeforeAnythingIsAnsweredAgain() async throws {
        let rooms = try Self.rooms(tokensPerSecond: 0.5, maxTokens: 1)
        let ann = try rooms.connect("owed", user: "ann")
        await ann.send(Self.prompt("hello", id: "p1"))
        let first = try await ann.waitFor(ofType: "ai.start")[0]
        try await rooms.hibernate("owed")
        let error = try await ann.waitFor(ofType: "ai.error")[0]
        #expect(error["code"] as? String == "interrupted")
        let queued = try await ann.waitFor(ofType: "ai.queued")[0]
        #expect(queued["replyTo"] as? Int == 1)
        #expect(queued["position"] as? Int == 1)
        // Nothing touches the room: its schedule brings it back, and the prompt is answered.
        let starts = try await ann.waitFor(2, ofType: "ai.start", timeout: .seconds(20))
        #expect(starts[1]["replyTo"] as? Int == 1)
        #expect(starts[1]["stream"] as? String != first["stream"] as? String)
        let end = try await ann.waitFor(ofType: "ai.end", timeout: .seconds(20))[0]
        #expect(end["status"] as? String == "complete")
        let history = try await rooms.request("owed", "GET", ["messages"]).json["messages"] as? [[String: Any]] ?? []
        #expect(history.compactMap { $0["status"] as? String } == ["complete"], "no empty interrupted answer: \(history)")
        await rooms.stopAndRemove()
    }

    @Test("prompts queue behind the answer in progress and are answered in order")
    func queueInOrder() async throws {
        let rooms = try Self.rooms(tokensPerSecond: 200, maxTokens: 5)
        let ann = try rooms.connect("q", user: "ann")
        for index in 1...3 { await ann.send(Self.prompt("q\(index)", id: "p\(index)")) }
        let queued = try await ann.waitFor(2, ofType: "ai.queued")
        #expect(queued.map { $0["position"] as? Int } == [1, 2])
        let ends = try await ann.waitFor(3, ofType: "ai.end", timeout: .seconds(20))
        #expect(ends.allSatisfy { $0["status"] as? String == "complete" })
        let starts = ann.frames(ofType: "ai.start")
        #expect(starts.map { $0["replyTo"] as? Int } == [1, 2, 3])
        await rooms.stopAndRemove()
    }
}
