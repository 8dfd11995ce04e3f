import ChatRooms
import Foundation
import RoomTesting
import HTTPTypes
@_spi(Node) import RoomRuntime
import RoomServer
import TestSupport
import Testing

@Suite("Scheduled chat messages", .watched)
struct ScheduledMessageTests {
    static func now() -> Int64 { Int64(Date().timeIntervalSince1970 * 1000) }

    @Test("a send with deliverAt is acknowledged at once and delivered to everyone at its time")
    func deliveredAtItsTime() async throws {
        let server = try await TestServer.start()
        let ann = try await server.socket("/rooms/chat/s1/ws?user=ann")
        let bob = try await server.socket("/rooms/chat/s1/ws?user=bob")
        try await bob.waitFor(1, "welcome")
        ann.send(json: ["type": "send", "id": "now", "text": "first"])
        try await ann.waitFor(1, "ack")
        // Far enough ahead that the acks and the GET below come before it on a loaded machine.
        let deliverAt = Self.now() + 8_000
        ann.send(json: ["type": "send", "id": "later", "text": "second", "deliverAt": deliverAt])
        ann.send(json: ["type": "send", "id": "later", "text": "second", "deliverAt": deliverAt])
        let acks = try await ann.waitFor(3, "ack")
        #expect(acks[1]["scheduled"] as? Bool == true)
        #expect(acks[1]["seq"] == nil)
        #expect(acks[1]["duplicate"] == nil)
        #expect(acks[2]["scheduled"] as? Bool == true)
        #expect(acks[2]["duplicate"] as? Bool == true)
        let pending = try await server.http(.get, "/rooms/chat/s1/scheduled").json["scheduled"] as? [[String: Any]]
        #expect(pending?.count == 1)
        #expect(pending?.first?["text"] as? String == "second")

        let seenByBob = try await bob.waitFor(2, "message", timeout: .seconds(30))
        let seenByAnn = try await ann.waitFor(2, "message", timeout: .seconds(30))
        #expect(seenByBob[1]["id"] as? String == "later")
        #expect(seenByBob[1]["seq"] as? Int == 2)
        #expect(seenByBob[1]["user"] as? String == "ann")
        #expect((seenByBob[1]["ts"] as? NSNumber)?.int64Value ?? 0 >= deliverAt)
        #expect(seenByAnn[1]["seq"] as? Int == 2)
        // Once delivered, the same id is an ordinary duplicate.
        ann.send(json: ["type": "send", "id": "later", "text": "second", "deliverAt": Self.now() + 60_000])
        let last = try await ann.waitFor(4, "ack")[3]
        #expect(last["seq"] as? Int == 2)
        #expect(last["duplicate"] as? Bool == true)
        #expect(last["scheduled"] == nil)
        try await Task.sleep(for: .milliseconds(300))
        #expect(bob.frames(ofType: "message").count == 2)
        #expect(try await server.http(.get, "/rooms/chat/s1/messages").json["messages"] as? [Any] != nil)
        try await server.stopAndRemove()
    }

    @Test("a hibernated room wakes to deliver a scheduled message to the socket it kept open")
    func hibernatedRoomDelivers() async throws {
        let server = try await TestServer.start { $0.runtime.idleTimeout = .milliseconds(100) }
        let ann = try await server.socket("/rooms/chat/sleepy/ws?user=ann")
        try await ann.waitFor(1, "welcome")
        ann.send(json: ["type": "send", "id": "wake", "text": "good morning", "deliverAt": Self.now() + 4_000])
        try await ann.waitFor(1, "ack")
        try await eventually("the room hibernated") {
            try await server.http(.get, "/rooms/chat/sleepy").json["active"] as? Bool == false
        }
        #expect(ann.frames(ofType: "message").isEmpty)
        let message = try await ann.waitFor(1, "message")[0]
        #expect(message["text"] as? String == "good morning")
        try await server.stopAndRemove()
    }

    @Test(
        "a bad deliverAt is an error frame naming the frame, and nothing is scheduled",
        arguments: [
            ("past", #"{"type":"send","id":"e1","text":"x","deliverAt":1000}"#, "invalid_deliver_at"),
            ("now", #"{"type":"send","id":"e1","text":"x","deliverAt":NOW}"#, "invalid_deliver_at"),
            ("beyond the horizon", #"{"type":"send","id":"e1","text":"x","deliverAt":WEEK}"#, "invalid_deliver_at"),
            ("a string", #"{"type":"send","id":"e1","text":"x","deliverAt":"tomorrow"}"#, "invalid_field"),
            ("a fraction", #"{"type":"send","id":"e1","text":"x","deliverAt":1.5}"#, "invalid_field"),
            ("no text", #"{"type":"send","id":"e1","deliverAt":SOON}"#, "missing_field"),
        ])
    func badDeliverAt(label: String, frame: String, code: String) async throws {
        let server = try await TestServer.start()
        let ann = try await server.socket("/rooms/chat/bad/ws?user=ann")
        try await ann.waitFor(1, "welcome")
        let now = Self.now()
        ann.send(
            frame.replacingOccurrences(of: "NOW", with: "\(now)")
                .replacingOccurrences(of: "WEEK", with: "\(now + 604_800_000 + 60_000)")
                .replacingOccurrences(of: "SOON", with: "\(now + 60_000)"))
        let error = try await ann.waitFor(1, "error")[0]
        #expect(error["code"] as? String == code, "\(label)")
        #expect(error["id"] as? String == "e1")
        // The connection still works, and nothing was scheduled.
        ann.send(json: ["type": "send", "id": "ok", "text": "fine"])
        try await ann.waitFor(1, "ack")
        let pending = try await server.http(.get, "/rooms/chat/bad/scheduled").json["scheduled"] as? [Any]
        #expect(pending?.isEmpty == true)
        try await server.stopAndRemove()
    }

    @Test("HTTP: POST with deliverAt answers 202, the room's limit is enforced, bad input is a 400")
    func overHTTP() async throws {
        let server = try await TestServer.start { configuration in
            configuration.runtime.kinds["chat"] = try! RoomKind(
                name: "chat", roomClass: RoomClass(ChatRoom.self), options: ["maxScheduledMessages": .number(1)])
        }
        let deliverAt = Self.now() + 60_000
        let posted = try await server.http(
            .post, "/rooms/chat/h/messages", body: #"{"user":"ann","text":"hi","id":"p1","deliverAt":\#(deliverAt)}"#)
        #expect(posted.status == 202)
        #expect(posted.json["scheduled"] as? Bool == true)
        #expect((posted.json["deliverAt"] as? NSNumber)?.int64Value == deliverAt)
        let again = try await server.http(
            .post, "/rooms/chat/h/messages", body: #"{"user":"ann","text":"hi","id":"p1","deliverAt":\#(deliverAt)}"#)
        #expect(again.status == 200)
        #expect(again.json["duplicate"] as? Bool == true)
        let full = try await server.http(
            .post, "/rooms/chat/h/messages", body: #"{"user":"ann","text":"hi","id":"p2","deliverAt":\#(deliverAt)}"#)
        #expect(full.status == 409)
        #expect(full.errorCode == "too_many_scheduled")
        let past = try await server.http(
            .post, "/rooms/chat/h/messages", body: #"{"user":"bob","text":"hi","deliverAt":5}"#)
        #expect(past.status == 400)
        #expect(past.errorCode == "invalid_deliver_at")
        let wrongMethod = try await server.http(.post, "/rooms/chat/h/scheduled", body: "{}")
        #expect(wrongMethod.status == 405)
        let pending = try await server.http(.get, "/rooms/chat/h/scheduled").json["scheduled"] as? [[String: Any]]
        #expect(pending?.map { $0["id"] as? String } == ["p1"])
        try await server.stopAndRemove()
    }
}
