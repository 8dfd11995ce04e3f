import ChatRooms
import Foundation
import GRDB
import RoomRuntime
import RoomTesting
import TestSupport
import Testing

/// A room class that composes the chat log with a field of its own, as an AI room does.
final class TaggedChatRoom: Room {
    static let className = "tagged-chat"

    static var migrations: RoomMigrations {
        var migrations = RoomMigrations()
        ChatLog.addMigrations(to: &migrations)
        migrations.add("v2-mood") { db in try db.execute(sql: "ALTER TABLE messages ADD COLUMN mood TEXT") }
        return migrations
    }

    let log = ChatLog(options: ChatOptions(), fields: [ChatField(column: "mood", name: "mood", type: .text)])

    init(options: NoOptions) {}

    func onMessage(_ message: ClientMessage, from connection: RoomConnection, context: isolated RoomContext)
        async throws
    {
        guard case .text(let text) = message else { return }
        let mood: [ChatMessage.Field] = text.hasSuffix("!") ? [ChatMessage.Field(name: "mood", value: .text("loud"))] : []
        let (stored, _) = try log.store(user: connection.user, id: nil, text: text, fields: mood, context: context)
        context.broadcast(MessageFrame(stored).frame)
    }

    func onRequest(_ request: RoomRequest, context: isolated RoomContext) async throws -> RoomResponse {
        try .json(["messages": log.history(request, context: context)])
    }
}

@Suite("ChatLog", .watched)
struct ChatLogTests {
    @Test("a composing class's fields are stored in its columns and returned in frames and history, only when set")
    func extraFields() async throws {
        let rooms = try TestRuntime(TaggedChatRoom.self)
        let ann = try rooms.connect("t", user: "ann")
        await ann.send("hello")
        await ann.send("HELLO!")
        let frames = try await ann.waitFor(2, ofType: "message")
        #expect(frames[0]["mood"] == nil)
        #expect(frames[1]["mood"] as? String == "loud")
        let response = try await rooms.request("t", "GET", [])
        let history = try response.decode([String: [ChatMessage]].self)
        #expect(history["messages"]?.map { $0[field: "mood"] } == [nil, .text("loud")])
        #expect(history["messages"]?.map(\.text) == ["hello", "HELLO!"])
        await rooms.stopAndRemove()
    }

    @Test("ChatMessage round-trips through JSON with its fields at the top level")
    func messageCoding() throws {
        let message = ChatMessage(
            seq: 3, id: "a", user: "ann", text: "t", ts: 5,
            fields: [ChatMessage.Field(name: "replyTo", value: .integer(2)), ChatMessage.Field(name: "status", value: .text("ok"))])
        let data = try JSONEncoder().encode(message)
        let object = try JSONSerialization.jsonObject(with: data) as? [String: Any]
        #expect(object?["replyTo"] as? Int == 2)
        #expect(object?["status"] as? String == "ok")
        #expect(try JSONDecoder().decode(ChatMessage.self, from: data) == message)
    }

    @Test("validation: text and ids within their limits")
    func validation() throws {
        let log = ChatLog(options: ChatOptions(maxTextBytes: 4))
        #expect(try log.validText("abcd") == "abcd")
        #expect(throws: RoomError.self) { try log.validText("abcde") }
        #expect(throws: RoomError.self) { try log.validText(nil) }
        #expect(try log.validID(nil) == nil)
        #expect(throws: RoomError.self) { try log.validID(String(repeating: "i", count: ChatLog.maxIDBytes + 1)) }
    }
}
