import ChatRooms
import Foundation
import RoomRuntime
import RoomTesting
import TestSupport
import Testing

/// The `chat` class driven in process through RoomTesting: no sockets, real files.
@Suite("ChatRoom", .watched)
struct ChatRoomTests {
    static func send(_ text: String, id: String? = nil, deliverAt: Int64? = nil) -> String {
        var object: [String: Any] = ["type": "send", "text": text]
        if let id { object["id"] = id }
        if let deliverAt { object["deliverAt"] = deliverAt }
        return String(decoding: try! JSONSerialization.data(withJSONObject: object), as: UTF8.self)
    }

    @Test("a send is acked to its sender before everyone gets the message; a resent id stores it once")
    func sendAndResend() async throws {
        let rooms = try TestRuntime(ChatRoom.self)
        let ann = try rooms.connect("lobby", user: "ann")
        let bob = try rooms.connect("lobby", user: "bob")
        try await bob.waitFor(ofType: "welcome")
        await ann.send(Self.send("hi", id: "m1"))
        await ann.send(Self.send("hi", id: "m1"))
        let acks = try await ann.waitFor(2, ofType: "ack")
        #expect(acks.map { $0["seq"] as? Int } == [1, 1])
        #expect(acks.map { $0["duplicate"] as? Bool } == [nil, true])
        let message = try await bob.waitFor(ofType: "message")[0]
        #expect(message["text"] as? String == "hi")
        #expect(message["user"] as? String == "ann")
        // The ack precedes the message on the sender's connection.
        let annTypes = ann.frames.compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
            .compactMap { $0["type"] as? String }.filter { $0 == "ack" || $0 == "message" }
        #expect(annTypes.prefix(2) == ["ack", "message"])
        let history = try await rooms.request("lobby", "GET", ["messages"]).json
        #expect((history["messages"] as? [Any])?.count == 1)
        await rooms.stopAndRemove()
    }

    @Test("invalid sends are refused with the documented codes and store nothing", arguments: [
        (#"{"type": "send"}"#, "missing_field"),
        (#"{"type": "send", "text": ""}"#, "missing_field"),
        (#"{"type": "send", "text": 5}"#, "invalid_field"),
        (#"{"type": "send", "text": "x", "id": ""}"#, "invalid_field"),
        (#"{"type": "shout", "text": "x"}"#, "unknown_type"),
        ("not json", "invalid_json"),
        (#"{"type": "send", "text": "\#(String(repeating: "y", count: 11))"}"#, "text_too_long"),
    ])
    func refusedSends(frame: String, code: String) async throws {
        let rooms = try TestRuntime(ChatRoom.self, options: ["maxTextBytes": .number(10)])
        let ann = try rooms.connect("r", user: "ann")
        await ann.send(frame)
        let error = try await ann.waitFor(ofType: "error")[0]
        #expect(error["code"] as? String == code)
        #expect(try rooms.info("r").lastSeq == 0)
        await rooms.stopAndRemove()
    }

    @Test("history pages forwards with after and backwards with before, in ascending seq")
    func historyPaging() async throws {
        let rooms = try TestRuntime(ChatRoom.self)
        for index in 1...7 {
            _ = try await rooms.request(
                "h", "POST", ["messages"], body: #"{"user": "ann", "text": "m\#(index)", "id": "i\#(index)"}"#)
        }
        func seqs(_ query: [String: String]) async throws -> [Int] {
            let response = try await rooms.request("h", "GET", ["messages"], query: query)
            return (response.json["messages"] as? [[String: Any]] ?? []).compactMap { $0["seq"] as? Int }
        }
        #expect(try await seqs(["after": "2", "limit": "3"]) == [3, 4, 5])
        #expect(try await seqs(["before": "7", "limit": "3"]) == [4, 5, 6])
        #expect(try await seqs(["after": "1", "before": "4"]) == [2, 3])
        let error = await #expect(throws: RoomError.self) {
            _ = try await rooms.request("h", "GET", ["messages"], query: ["since": "1"])
        }
        #expect(error?.code == .invalidQuery)
        await rooms.stopAndRemove()
    }

    @Test("a scheduled message is stored and broadcast at its time, after the room hibernated")
    func scheduledMessage() async throws {
        let rooms = try TestRuntime(ChatRoom.self) { $0.idleTimeout = .milliseconds(50) }
        let ann = try rooms.connect("later", user: "ann")
        // Far enough ahead that a loaded machine (the test suite runs in parallel) still gets the
        // frame to the room before the time: 400 ms was once 78 ms too few.
        let at = Int64(Date().timeIntervalSince1970 * 1000) + 1_500
        await ann.send(Self.send("wake up", id: "w", deliverAt: at))
        let ack = try await ann.waitFor(ofType: "ack")[0]
        #expect(ack["scheduled"] as? Bool == true)
        let message = try await ann.waitFor(ofType: "message")[0]
        #expect(message["id"] as? String == "w")
        #expect((message["ts"] as? NSNumber)?.int64Value ?? 0 >= at)
        await rooms.stopAndRemove()
    }

    @Test("presence: joins and leaves are broadcast with the connection count")
    func presence() async throws {
        let rooms = try TestRuntime(ChatRoom.self)
        let ann = try rooms.connect("p", user: "ann")
        let bob = try rooms.connect("p", user: "bob")
        try await ann.waitFor(2, ofType: "presence")
        bob.disconnect()
        let events = try await ann.waitFor(3, ofType: "presence")
        #expect(events.map { $0["event"] as? String } == ["join", "join", "leave"])
        #expect(events.map { $0["connections"] as? Int } == [1, 2, 1])
        await rooms.stopAndRemove()
    }

    @Test("typing is relayed to the other connections, at most once per user per interval, and never stored")
    func typing() async throws {
        let rooms = try TestRuntime(ChatRoom.self)
        let ann = try rooms.connect("t", user: "ann")
        let annOtherTab = try rooms.connect("t", user: "ann")
        let bob = try rooms.connect("t", user: "bob")
        try await bob.waitFor(ofType: "welcome")
        for _ in 0..<20 { await ann.send(#"{"type": "typing"}"#) }
        await ann.send(Self.send("flush", id: "f1"))
        _ = try await bob.waitFor(ofType: "message")
        #expect(bob.frames(ofType: "typing").map { $0["user"] as? String } == ["ann"], "a flood is throttled")
        #expect(annOtherTab.frames(ofType: "typing").count == 1, "the user's other tabs hear it too")
        #expect(ann.frames(ofType: "typing").isEmpty, "the typist does not hear itself")
        #expect(ann.frames(ofType: "error").isEmpty)
        #expect(try rooms.info("t").lastSeq == 1, "typing stored something")
        try await Task.sleep(for: .milliseconds(Int(ChatRoom.typingInterval) + 100))
        await ann.send(#"{"type": "typing"}"#)
        try await bob.waitFor(2, ofType: "typing")
        await rooms.stopAndRemove()
    }
}

