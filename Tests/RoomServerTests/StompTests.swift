import Foundation
import HTTPTypes
import NIOWebSocket
import WSCore
@_spi(Node) import RoomRuntime
import RoomServer
import RoomTesting
import TestSupport
import Testing

@Suite("STOMP over WebSocket", .watched)
struct StompTests {
    static func history(_ server: TestServer, _ room: String) async throws -> [[String: Any]] {
        try await server.http(.get, "/rooms/chat/\(room)/messages?after=0").json["messages"] as? [[String: Any]] ?? []
    }

    @Test("one socket subscribes to two rooms, SENDs with receipts after the commit, and hears the room protocol's clients and they it")
    func subscribeAndSend() async throws {
        let server = try await TestServer.start()
        defer { Task { try? await server.stopAndRemove() } }
        let bob = try await server.socket("/rooms/chat/one/ws?user=bob")
        try await bob.waitFor(1, "welcome")
        let ann = try await StompTestClient.connect(server, headers: [("login", "ann")])
        let connected = ann.frames("CONNECTED")[0]
        #expect(connected["version"] == "1.2")
        #expect(connected["user-name"] == "ann")
        #expect(connected["session"]?.isEmpty == false)

        ann.send("SUBSCRIBE", [("destination", "/topic/rooms/chat/one"), ("id", "s1"), ("receipt", "sub1")])
        ann.send("SUBSCRIBE", [("destination", "/topic/rooms/chat/two"), ("id", "s2")])
        try await ann.waitForReceipt("sub1")
        // The subscription's receipt comes after its welcome: it is live.
        let welcome = ann.frames("MESSAGE") { $0["x-type"] == "welcome" && $0["subscription"] == "s1" }
        #expect(welcome.count == 1 && welcome[0].json["room"] as? String == "one")

        ann.send(
            "SEND", [("destination", "/topic/rooms/chat/one"), ("content-type", "application/json"), ("receipt", "r1")],
            body: #"{"text": "hi there", "id": "m1"}"#)
        ann.send(
            "SEND", [("destination", "/topic/rooms/chat/two"), ("content-type", "text/plain"), ("x-id", "m2"), ("receipt", "r2")],
            body: "plain words")
        let first = try await ann.waitForReceipt("r1")
        #expect(first["x-seq"] == "1")
        #expect(try await ann.waitForReceipt("r2")["x-seq"] == "1")
        // The receipt answers the SEND once the room stored the message (runtime.submit).
        #expect(try await Self.history(server, "one").map { $0["text"] as? String } == ["hi there"])

        let one = try await ann.waitForMessages(1, subscription: "s1")
        #expect(one[0]["seq"] as? Int == 1 && one[0]["user"] as? String == "ann" && one[0]["id"] as? String == "m1")
        let message = ann.frames("MESSAGE") { $0["x-type"] == "message" && $0["subscription"] == "s1" }[0]
        #expect(message["message-id"] == "chat/one/1")
        #expect(message["destination"] == "/topic/rooms/chat/one")
        #expect(message["content-type"] == "application/json")
        #expect(message["x-seq"] == "1")
        let two = try await ann.waitForMessages(1, subscription: "s2")
        #expect(two[0]["text"] as? String == "plain words" && two[0]["id"] as? String == "m2")
        #expect(ann.messages(subscription: "s1").count == 1, "room two's message did not reach room one's subscription")

        // The room protocol's client saw ann's message, and ann sees bob's.
        let seen = try await bob.waitFor(1, "message")
        #expect(seen[0]["text"] as? String == "hi there" && seen[0]["seq"] as? Int == 1)
        bob.send(json: ["type": "send", "text": "from bob", "id": "b1"])
        let both = try await ann.waitForMessages(2, subscription: "s1")
        #expect(both.map { $0["seq"] as? Int } == [1, 2] && both[1]["user"] as? String == "bob")

        // The same id again is stored once and answered as a duplicate.
        ann.send("SEND", [("destination", "/topic/rooms/chat/one"), ("receipt", "r3")], body: #"{"text": "hi there", "id": "m1"}"#)
        let again = try await ann.waitForReceipt("r3")
        #expect(again["x-seq"] == "1" && again["x-duplicate"] == "true")
        #expect(try await Self.history(server, "one").count == 2)
        #expect(ann.frames("ERROR").isEmpty, "\(ann.frames("ERROR"))")
    }

    @Test("SUBSCRIBE with x-after resumes without a gap, then goes on live; UNSUBSCRIBE stops the messages")
    func resume() async throws {
        let server = try await TestServer.start()
        defer { Task { try? await server.stopAndRemove() } }
        for text in ["a", "b", "c"] {
            #expect(try await server.http(.post, "/rooms/chat/re/messages", body: #"{"user": "bob", "text": "\#(text)"}"#).status == 201)
        }
        let ann = try await StompTestClient.connect(server, headers: [("login", "ann")])
        ann.send("SUBSCRIBE", [("destination", "/topic/rooms/chat/re"), ("id", "r"), ("x-after", "1"), ("receipt", "s")])
        try await ann.waitForReceipt("s")
        #expect(try await ann.waitForMessages(2, subscription: "r").map { $0["seq"] as? Int } == [2, 3])
        let welcome = ann.frames("MESSAGE") { $0["x-type"] == "welcome" }[0].json
        #expect(welcome["recovered"] as? Bool == true)
        #expect(try await server.http(.post, "/rooms/chat/re/messages", body: #"{"user": "bob", "text": "d"}"#).status == 201)
        #expect(try await ann.waitForMessages(3, subscription: "r").map { $0["text"] as? String } == ["b", "c", "d"])

        ann.send("UNSUBSCRIBE", [("id", "r"), ("receipt", "u")])
        try await ann.waitForReceipt("u")
        #expect(try await server.http(.post, "/rooms/chat/re/messages", body: #"{"user": "bob", "text": "e"}"#).status == 201)
        // A marker sent after it arrives, and nothing of room "re" came before it.
        ann.send("SUBSCRIBE", [("destination", "/topic/rooms/chat/marker"), ("id", "m"), ("receipt", "m")])
        try await ann.waitForReceipt("m")
        #expect(ann.messages(subscription: "r").count == 3)
        #expect(try await server.http(.get, "/rooms/chat/re").json["connections"] as? Int == 0)
    }

    @Test("the upgrade answers the first STOMP subprotocol the client offers, and none when it offers none of them")
    func subprotocols() async throws {
        let server = try await TestServer.start()
        defer { Task { try? await server.stopAndRemove() } }
        for (offered, answered) in [("v10.stomp, v12.stomp", "v12.stomp"), ("v11.stomp", "v11.stomp"), ("chat", nil)] {
            let connection = try RawConnection(port: server.port)
            _ = connection.send(
                "GET /stomp HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                    + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
                    + "Sec-WebSocket-Protocol: \(offered)\r\n\r\n")
            let head = try await connection.readHead(timeout: .seconds(10)).lowercased()
            #expect(head.hasPrefix("http/1.1 101"), "\(head)")
            if let answered {
                #expect(head.contains("sec-websocket-protocol: \(answered)"), "\(head)")
            } else {
                #expect(!head.contains("sec-websocket-protocol"), "\(head)")
            }
            connection.close()
        }
    }

    @Test("a transaction's SENDs are stored at COMMIT, in order, before its receipt; ABORT stores nothing")
    func transactions() async throws {
        let server = try await TestServer.start()
        defer { Task { try? await server.stopAndRemove() } }
        let ann = try await StompTestClient.connect(server, headers: [("login", "ann")])
        ann.send("SUBSCRIBE", [("destination", "/topic/rooms/chat/tx"), ("id", "tx"), ("receipt", "s")])
        try await ann.waitForReceipt("s")
        ann.send("BEGIN", [("transaction", "t1")])
        ann.send("SEND", [("destination", "/topic/rooms/chat/tx"), ("transaction", "t1")], body: #"{"text": "one"}"#)
        ann.send("SEND", [("destination", "/topic/rooms/chat/tx"), ("transaction", "t1"), ("receipt", "held")], body: #"{"text": "two"}"#)
        try await ann.waitForReceipt("held")
        #expect(try await Self.history(server, "tx").isEmpty, "nothing is stored before COMMIT")
        ann.send("COMMIT", [("transaction", "t1"), ("receipt", "c1")])
        try await ann.waitForReceipt("c1")
        // On the wire, the receipt comes after both messages: it was sent once they were stored.
        let order = ann.frames.compactMap { $0.command == "RECEIPT" ? $0["receipt-id"] : $0.json["text"] as? String }
        #expect(order.suffix(3) == ["one", "two", "c1"], "\(order)")
        #expect(try await Self.history(server, "tx").map { $0["text"] as? String } == ["one", "two"])

        ann.send("BEGIN", [("transaction", "t2")])
        ann.send("SEND", [("destination", "/topic/rooms/chat/tx"), ("transaction", "t2")], body: #"{"text": "never"}"#)
        ann.send("ABORT", [("transaction", "t2"), ("receipt", "a2")])
        try await ann.waitForReceipt("a2")
        ann.send("SEND", [("destination", "/topic/rooms/chat/tx"), ("receipt", "after")], body: #"{"text": "three"}"#)
        try await ann.waitForReceipt("after")
        #expect(try await Self.history(server, "tx").map { $0["text"] as? String } == ["one", "two", "three"])
    }

    @Test("DISCONNECT's receipt comes after every SEND before it is stored, then the socket closes with 1000")
    func disconnect() async throws {
        let server = try await TestServer.start()
        defer { Task { try? await server.stopAndRemove() } }
        let ann = try await StompTestClient.connect(server, headers: [("login", "ann")])
        for index in 1...20 {
            ann.send(
                "SEND", [("destination", "/topic/rooms/chat/bye"), ("receipt", "r\(index)")],
                body: #"{"text": "m\#(index)", "id": "i\#(index)"}"#)
        }
        ann.send("DISCONNECT", [("receipt", "bye")])
        try await ann.waitForReceipt("bye")
        // Every SEND's receipt came before DISCONNECT's: each was stored first.
        let receipts = ann.frames("RECEIPT").compactMap { $0["receipt-id"] }
        #expect(receipts == (1...20).map { "r\($0)" } + ["bye"], "\(receipts)")
        #expect(try await Self.history(server, "bye").count == 20)
        let close = try await ann.socket.closed()
        #expect(close?.closeCode == .normalClosure)
    }

    @Test("a room deleted under a subscription ends the connection with ERROR room_deleted and close 4404")
    func roomDeleted() async throws {
        let server = try await TestServer.start()
        defer { Task { try? await server.stopAndRemove() } }
        let ann = try await StompTestClient.connect(server, headers: [("login", "ann")])
        ann.send("SUBSCRIBE", [("destination", "/topic/rooms/chat/doomed"), ("id", "d"), ("receipt", "s")])
        try await ann.waitForReceipt("s")
        ann.send("SEND", [("destination", "/topic/rooms/chat/doomed"), ("receipt", "r")], body: "x")
        try await ann.waitForReceipt("r")
        #expect(try await server.http(.delete, "/rooms/chat/doomed").status == 204)
        let error = try await ann.waitFor("ERROR")[0]
        #expect(error["message"] == "room_deleted")
        #expect(error["x-close-code"] == "4404")
        #expect(error["subscription"] == "d" && error["destination"] == "/topic/rooms/chat/doomed")
        #expect(try await ann.socket.closed()?.closeCode == .init(codeNumber: 4404))
    }

    @Test("a node shutting down ends STOMP connections with ERROR shutting_down and close 1001")
    func shutdown() async throws {
        let server = try await TestServer.start()
        let ann = try await StompTestClient.connect(server, headers: [("login", "ann")])
        ann.send("SUBSCRIBE", [("destination", "/topic/rooms/chat/down"), ("id", "d"), ("receipt", "s")])
        try await ann.waitForReceipt("s")
        let stopping = Task { try await server.stop() }
        let error = try await ann.waitFor("ERROR")[0]
        #expect(error["message"] == "shutting_down" && error["x-close-code"] == "1001", "\(error)")
        #expect(try await ann.socket.closed()?.closeCode == .goingAway)
        try await stopping.value
        try? FileManager.default.removeItem(at: server.dataDirectory)
    }

    @Test("heart-beats: the server sends them at the negotiated rate, and ends a connection whose client stopped")
    func heartBeats() async throws {
        // 1.5 s each way: the server gives up on a client after 3 s of silence, which a loaded
        // test machine does not reach by accident with a client beating every 100 ms.
        let server = try await TestServer.start { $0.stompHeartBeat = .milliseconds(1_500) }
        defer { Task { try? await server.stopAndRemove() } }
        let quiet = try await StompTestClient.connect(server, headers: [("login", "ann"), ("heart-beat", "100,100")])
        #expect(quiet.frames("CONNECTED")[0]["heart-beat"] == "1500,1500")
        let lively = try await StompTestClient.connect(server, headers: [("login", "bob"), ("heart-beat", "100,100")])
        let beating = Task {
            while !Task.isCancelled {
                lively.sendRaw("\n")
                try? await Task.sleep(for: .milliseconds(100))
            }
        }
        defer { beating.cancel() }
        try await eventually("heart-beats from the server") { quiet.heartBeats >= 2 }
        let error = try await quiet.waitFor("ERROR")[0]
        #expect(error["message"] == "request_timeout", "\(error)")
        _ = try await quiet.socket.closed()
        // Longer than the quiet one lasted: the client that beats is still connected and served.
        try await Task.sleep(for: .milliseconds(3_500))
        lively.send("SEND", [("destination", "/topic/rooms/chat/hb"), ("receipt", "alive")], body: "still here")
        try await lively.waitForReceipt("alive")
        #expect(lively.frames("ERROR").isEmpty)
    }

    @Test("with jwt: CONNECT takes the token from passcode or Authorization; the token's rooms and the room's members decide SUBSCRIBE and SEND")
    func tokensAndMembers() async throws {
        let jwt = try await JWTServer.start()
        defer { Task { try? await jwt.server.stopAndRemove() } }
        let server = jwt.server

        let anonymous = try await StompTestClient.open(server)
        anonymous.send("CONNECT", [("accept-version", "1.2"), ("login", "ann")])
        #expect(try await anonymous.waitFor("ERROR")[0]["message"] == "unauthorized")
        #expect(try await anonymous.socket.closed()?.closeCode == .init(codeNumber: 4401))

        let forged = try await StompTestClient.open(server)
        forged.send("CONNECT", [("accept-version", "1.2"), ("passcode", "not.a.token")])
        #expect(try await forged.waitFor("ERROR")[0]["message"] == "unauthorized")

        let ann = try await StompTestClient.connect(server, headers: [("passcode", try await jwt.mint.hs256("ann"))])
        #expect(ann.frames("CONNECTED")[0]["user-name"] == "ann")
        let carl = try await StompTestClient.connect(
            server, headers: [("Authorization", "Bearer \(try await jwt.mint.hs256("carl"))")])
        #expect(carl.frames("CONNECTED")[0]["user-name"] == "carl")

        // A members room that does not exist: refused, and no file made.
        ann.send("SUBSCRIBE", [("destination", "/topic/rooms/team/nowhere"), ("id", "n"), ("receipt", "n")])
        let missing = try await ann.waitFor("ERROR")[0]
        #expect(missing["message"] == "room_not_found" && missing["receipt-id"] == "n", "\(missing)")
        #expect(jwt.roomFiles().isEmpty, "\(jwt.roomFiles())")

        let owner = try await jwt.mint.hs256("dora")
        let created = try await server.http(
            .post, "/rooms/team/crew", body: #"{"members": [{"user": "erin", "role": "member"}]}"#, headers: JWTServer.bearer(owner))
        #expect(created.status == 201, "\(created.body)")
        carl.send("SUBSCRIBE", [("destination", "/topic/rooms/team/crew"), ("id", "c"), ("receipt", "c")])
        let refused = try await carl.waitFor("ERROR")[0]
        #expect(refused["message"] == "not_a_member" && refused["receipt-id"] == "c", "\(refused)")
        #expect(try await carl.socket.closed()?.closeCode == .init(codeNumber: 4403))

        let erin = try await StompTestClient.connect(server, headers: [("passcode", try await jwt.mint.hs256("erin"))])
        erin.send("SUBSCRIBE", [("destination", "/topic/rooms/team/crew"), ("id", "c"), ("receipt", "in")])
        try await erin.waitForReceipt("in")
        erin.send("SEND", [("destination", "/topic/rooms/team/crew"), ("receipt", "said")], body: #"{"text": "hello crew", "user": "dora"}"#)
        try await erin.waitForReceipt("said")
        let said = try await erin.waitForMessages(1, subscription: "c")
        #expect(said[0]["user"] as? String == "erin", "the sender is the token's user, whatever the body says")

        // A token whose rooms claim does not cover the room.
        let narrow = try await StompTestClient.connect(
            server, headers: [("passcode", try await jwt.mint.hs256("erin", 300, ["rooms": .array([.string("chat/*")])]))])
        narrow.send("SEND", [("destination", "/topic/rooms/team/crew"), ("receipt", "no")], body: "x")
        let forbidden = try await narrow.waitFor("ERROR")[0]
        #expect(forbidden["message"] == "forbidden" && forbidden["receipt-id"] == "no")
        #expect(try await Self.teamHistory(server, "crew", headers: JWTServer.bearer(owner)).count == 1)
    }

    static func teamHistory(_ server: TestServer, _ room: String, headers: HTTPFields) async throws -> [[String: Any]] {
        try await server.http(.get, "/rooms/team/\(room)/messages?after=0", headers: headers).json["messages"] as? [[String: Any]]
            ?? []
    }
}
