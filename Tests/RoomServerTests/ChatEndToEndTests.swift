import HTTPTypes
@_spi(Node) import RoomRuntime
import RoomServer
import WSCore
import Foundation
import RoomTesting
import NIOWebSocket
import TestSupport
import Testing

@Suite("Chat over real sockets", .watched)
struct ChatEndToEndTests {
    @Test("two clients see each other's messages, in order, acknowledged after commit")
    func twoClients() async throws {
        let server = try await TestServer.start()
        let ann = try await server.socket("/rooms/chat/lobby/ws?user=ann")
        let annWelcome = try await ann.waitFor(1, "welcome")[0]
        #expect(annWelcome["kind"] as? String == "chat")
        #expect(annWelcome["room"] as? String == "lobby")
        #expect(annWelcome["user"] as? String == "ann")
        #expect(annWelcome["lastSeq"] as? Int == 0)
        #expect(ann.frames.first?["type"] as? String == "welcome")

        let bob = try await server.socket("/rooms/chat/lobby/ws?user=bob")
        try await bob.waitFor(1, "welcome")
        let joins = try await ann.waitFor(2, "presence")
        #expect(joins.map { $0["user"] as? String } == ["ann", "bob"])
        #expect(joins.last?["event"] as? String == "join")
        #expect(joins.last?["connections"] as? Int == 2)

        for index in 0..<20 {
            let sender = index.isMultiple(of: 2) ? ann : bob
            sender.send(json: ["type": "send", "text": "message \(index)", "id": "m\(index)"])
        }
        let seenByAnn = try await ann.waitFor(20, "message")
        let seenByBob = try await bob.waitFor(20, "message")
        #expect(seenByAnn.map { $0["seq"] as? Int } == Array(1...20))
        #expect(seenByAnn.map { $0["text"] as? String } == seenByBob.map { $0["text"] as? String })
        #expect(Set(seenByAnn.compactMap { $0["text"] as? String }) == Set((0..<20).map { "message \($0)" }))
        for message in seenByAnn {
            #expect((message["ts"] as? Int ?? 0) > 1_700_000_000_000)
            #expect(message["user"] as? String == ((message["id"] as? String).map { Int($0.dropFirst())! % 2 == 0 } == true ? "ann" : "bob"))
        }

        let acks = try await ann.waitFor(10, "ack")
        #expect(acks.map { $0["id"] as? String } == stride(from: 0, to: 20, by: 2).map { "m\($0)" })
        // The sender's ack comes before the broadcast of the same message.
        let annTypes = ann.frames.compactMap { frame -> String? in
            guard frame["id"] as? String == "m0" else { return nil }
            return frame["type"] as? String
        }
        #expect(annTypes == ["ack", "message"])

        let info = try await server.http(.get, "/rooms/chat/lobby")
        #expect(info.status == 200)
        #expect(info.json["lastSeq"] as? Int == 20)
        #expect(info.json["connections"] as? Int == 2)
        #expect(info.json["active"] as? Bool == true)

        try await bob.close()
        let leave = try await ann.waitFor(3, "presence").last
        #expect(leave?["event"] as? String == "leave")
        #expect(leave?["user"] as? String == "bob")
        #expect(leave?["connections"] as? Int == 1)
        try await ann.close()
        try await server.stopAndRemove()
    }

    @Test("a restart on the same data directory keeps history")
    func restartKeepsHistory() async throws {
        let first = try await TestServer.start()
        let ann = try await first.socket("/rooms/chat/durable/ws?user=ann")
        for index in 1...5 { ann.send(json: ["type": "send", "text": "before restart \(index)"]) }
        try await ann.waitFor(5, "ack")
        try await first.stop()

        let second = try await TestServer.start(dataDirectory: first.dataDirectory)
        let history = try await second.http(.get, "/rooms/chat/durable/messages")
        #expect(history.status == 200)
        let messages = history.json["messages"] as? [[String: Any]] ?? []
        #expect(messages.map { $0["text"] as? String } == (1...5).map { "before restart \($0)" })
        #expect(messages.map { $0["seq"] as? Int } == Array(1...5))
        let bob = try await second.socket("/rooms/chat/durable/ws?user=bob")
        #expect(try await bob.waitFor(1, "welcome")[0]["lastSeq"] as? Int == 5)
        bob.send(json: ["type": "send", "text": "after restart"])
        #expect(try await bob.waitFor(1, "message")[0]["seq"] as? Int == 6)
        try await bob.close()
        try await second.stopAndRemove()
    }

    @Test("an idle room hibernates while its socket stays open, and the next frame wakes it")
    func hibernationWithOpenSocket() async throws {
        let server = try await TestServer.start { $0.runtime.idleTimeout = .milliseconds(200) }
        let ann = try await server.socket("/rooms/chat/sleepy/ws?user=ann")
        ann.send(json: ["type": "send", "text": "first"])
        try await ann.waitFor(1, "message")
        try await eventually("the room hibernates") {
            try await server.http(.get, "/rooms/chat/sleepy").json["active"] as? Bool == false
        }
        let info = try await server.http(.get, "/rooms/chat/sleepy").json
        #expect(info["connections"] as? Int == 1)
        #expect(info["lastSeq"] as? Int == 1)

        ann.send(json: ["type": "send", "text": "second", "id": "wake"])
        let messages = try await ann.waitFor(2, "message")
        #expect(messages.map { $0["seq"] as? Int } == [1, 2])
        #expect(try await server.http(.get, "/rooms/chat/sleepy").json["lastSeq"] as? Int == 2)
        try await ann.close()
        try await server.stopAndRemove()
    }

    @Test("a hibernated room with no connections wakes on the next message, history intact")
    func hibernatedWithoutConnections() async throws {
        let server = try await TestServer.start { $0.runtime.idleTimeout = .milliseconds(100) }
        _ = try await server.http(.post, "/rooms/chat/empty/messages", body: #"{"user":"ann","text":"one"}"#)
        try await eventually("the room hibernates") {
            try await server.http(.get, "/rooms/chat/empty").json["active"] as? Bool == false
        }
        let bob = try await server.socket("/rooms/chat/empty/ws?user=bob")
        #expect(try await bob.waitFor(1, "welcome")[0]["lastSeq"] as? Int == 1)
        bob.send(json: ["type": "send", "text": "two"])
        #expect(try await bob.waitFor(1, "message")[0]["seq"] as? Int == 2)
        let history = try await server.http(.get, "/rooms/chat/empty/messages").json["messages"] as? [[String: Any]]
        #expect(history?.map { $0["text"] as? String } == ["one", "two"])
        try await bob.close()
        try await server.stopAndRemove()
    }

    @Test("resending a message id stores it once and acknowledges it as a duplicate")
    func idempotentSend() async throws {
        let server = try await TestServer.start()
        let ann = try await server.socket("/rooms/chat/retry/ws?user=ann")
        ann.send(json: ["type": "send", "text": "once", "id": "same"])
        ann.send(json: ["type": "send", "text": "once", "id": "same"])
        let acks = try await ann.waitFor(2, "ack")
        #expect(acks.map { $0["seq"] as? Int } == [1, 1])
        #expect(acks[0]["duplicate"] == nil)
        #expect(acks[1]["duplicate"] as? Bool == true)
        // Another user may use the same id.
        let bob = try await server.socket("/rooms/chat/retry/ws?user=bob")
        bob.send(json: ["type": "send", "text": "mine", "id": "same"])
        #expect(try await bob.waitFor(1, "ack")[0]["seq"] as? Int == 2)
        #expect(try await ann.waitFor(2, "message").count == 2)
        try await ann.close()
        try await bob.close()
        try await server.stopAndRemove()
    }

    @Test("room ids are percent-decoded UTF-8: a slash, spaces and emoji make distinct rooms")
    func encodedIDs() async throws {
        let server = try await TestServer.start()
        let slash = try await server.socket("/rooms/chat/a%2Fb/ws?user=ann")
        #expect(try await slash.waitFor(1, "welcome")[0]["room"] as? String == "a/b")
        let emoji = try await server.socket("/rooms/chat/caf%C3%A9%20%F0%9F%8E%89/ws?user=z%C3%BC")
        let welcome = try await emoji.waitFor(1, "welcome")[0]
        #expect(welcome["room"] as? String == "café 🎉")
        #expect(welcome["user"] as? String == "zü")
        slash.send(json: ["type": "send", "text": "in a/b"])
        try await slash.waitFor(1, "message")
        #expect(try await server.http(.get, "/rooms/chat/a%2Fb").json["lastSeq"] as? Int == 1)
        #expect(try await server.http(.get, "/rooms/chat/a").json["exists"] as? Bool == false)
        #expect(try await server.http(.get, "/rooms/chat/caf%C3%A9%20%F0%9F%8E%89").json["connections"] as? Int == 1)
        // No file is named after an id.
        #expect(!server.dataFiles().contains { $0.contains("café") || $0.contains("a/b") })
        try await slash.close()
        try await emoji.close()
        try await server.stopAndRemove()
    }

    @Test("a graceful shutdown closes sockets with 1001 after storing what was acknowledged")
    func shutdownClosesWith1001() async throws {
        let server = try await TestServer.start()
        let ann = try await server.socket("/rooms/chat/closing/ws?user=ann")
        ann.send(json: ["type": "send", "text": "kept"])
        try await ann.waitFor(1, "ack")
        try await server.stop()
        let close = try await ann.closed()
        #expect(close?.closeCode == .goingAway)
        let again = try await TestServer.start(dataDirectory: server.dataDirectory)
        let history = try await again.http(.get, "/rooms/chat/closing/messages").json["messages"] as? [[String: Any]]
        #expect(history?.map { $0["text"] as? String } == ["kept"])
        try await again.stopAndRemove()
    }
}
