import Foundation
import HTTPTypes
import RoomTesting
import RoomsClient
import Synchronization
import TestSupport
import Testing

/// The Swift client (Sources/RoomsClient) against a real `rooms serve`: the JavaScript client's
/// tests (clients/js/test/client.test.mjs) ported, and more. Through a proxy that cuts, holds and
/// stalls connections, every message reaches the app once, in seq order, and every send is stored once.
@Suite("The Swift client (RoomsClient)", .serialized, .watched)
struct RoomsClientTests {
    static let kinds = """
        {"chat": {"class": "chat", "receiptIntervalMilliseconds": 50},
         "team": {"class": "chat", "access": "members", "inboxDelayMilliseconds": 50},
         "ai": {"class": "ai-chat", "provider": {"type": "local", "tokensPerSecond": 200, "maxTokens": 20}}}
        """

    /// A `rooms serve` on `directory` (a fresh one unless given), in jwt mode if asked.
    static func server(jwt: Bool = false, directory: URL? = nil) async throws -> (ServerProcess, URL) {
        let directory =
            directory ?? FileManager.default.temporaryDirectory.appendingPathComponent("rooms-swift-client-\(UUID().uuidString)")
        let server = try await ServerProcess.start(
            kinds: kinds, dataDirectory: directory,
            sections: jwt ? #""auth": {"mode": "jwt", "secretEnv": "\#(TokenMint.variable)", "leewaySeconds": 0}"# : nil,
            environment: jwt ? [TokenMint.variable: TokenMint.secret] : [:])
        return (server, directory)
    }

    /// An HS256 token for `sub`, valid for `seconds`.
    static func token(_ sub: String, seconds: Double) -> String {
        TokenMint.forged(
            header: #"{"alg":"HS256","typ":"JWT"}"#, claims: TokenMint.claims(sub, seconds), secret: TokenMint.secret)
    }

    /// The room's whole history over HTTP: (seq, id, text) of each message.
    static func history(
        _ server: some ServerEndpoint, _ path: String, headers: HTTPFields = [:]
    ) async throws -> [(seq: Int, id: String, text: String)] {
        var messages: [(seq: Int, id: String, text: String)] = []
        while true {
            let page = try await server.http(
                .get, "\(path)/messages?after=\(messages.last?.seq ?? 0)&limit=500", headers: headers)
            #expect(page.status == 200, "\(page.body)")
            let entries = page.json["messages"] as? [[String: Any]] ?? []
            messages += entries.map { ($0["seq"] as? Int ?? -1, $0["id"] as? String ?? "", $0["text"] as? String ?? "") }
            if entries.count < 500 { return messages }
        }
    }

    /// Checks that `messages` are seq 1...n, each once, in order.
    static func expectOrderedOnce(_ messages: [RoomsClient.Message], _ n: Int, _ who: String) {
        #expect(messages.map(\.seq) == Array(1...n), "\(who): seq 1...\(n) once, in order")
    }

    static func unique(_ name: String) -> String { "\(name)-\(UUID().uuidString.prefix(8))" }

    @Test(
        "a send storm through a link cut at random moments: every send acked with its own seq and stored once, sender and listener see seq 1...N once, in order",
        .timeLimit(.minutes(2)))
    func sendStorm() async throws {
        let (server, _) = try await Self.server()
        let proxy = try await CuttableProxy.start(to: server.port)
        let room = Self.unique("storm")
        let base = "ws://127.0.0.1:\(proxy.port)/rooms/chat/\(room)/ws"
        let sender = try WatchedRoomClient("\(base)?user=ann", options: .quickTest(after: 0))
        let listener = try WatchedRoomClient("\(base)?user=bob", options: .quickTest(after: 0))
        let cutting = Atomic(true)
        let cutter = Task {
            while cutting.load(ordering: .relaxed) {
                try? await Task.sleep(for: .milliseconds(Int.random(in: 80...330)))
                proxy.cut()
            }
        }
        // At least 300 sends, and on until the link was cut 5 times mid-storm.
        let acks = try await withThrowingTaskGroup(of: Ack.self) { group in
            var count = 0
            while count < 300 || proxy.cuts < 5 {
                let index = count
                group.addTask { try await sender.client.send("m\(index)", id: "storm-\(index)") }
                count += 1
                if count % 5 == 0 { try await Task.sleep(for: .milliseconds(10)) }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        cutting.store(false, ordering: .relaxed)
        await cutter.value
        let total = acks.count
        #expect(proxy.cuts >= 5)
        #expect(Set(acks.compactMap(\.seq)).count == total, "every send has its own seq")
        #expect(Set(acks.map(\.id)) == Set((0..<total).map { "storm-\($0)" }))
        let stored = try await Self.history(server, "/rooms/chat/\(room)")
        #expect(stored.count == total, "stored once each")
        #expect(Set(stored.map(\.id)).count == total)
        // Well within the 25-second ping interval: a reset link is noticed when it happens.
        try await eventually("both clients to see every message", timeout: .seconds(10)) {
            sender.messages.count >= total && listener.messages.count >= total
        }
        try await Task.sleep(for: .milliseconds(100))
        Self.expectOrderedOnce(sender.messages, total, "the sender")
        Self.expectOrderedOnce(listener.messages, total, "the listener")
        #expect(listener.messages.map(\.id) == stored.map(\.id), "the same messages as history")
        await sender.close()
        await listener.close()
        await proxy.stop()
        try await server.stop()
    }

    @Test(
        "a server killed with SIGKILL while sends wait, restarted on the same data: the client comes back, resumes, nothing lost or doubled",
        .timeLimit(.minutes(2)))
    func killAndRestart() async throws {
        var (server, directory) = try await Self.server()
        let proxy = try await CuttableProxy.start(to: server.port)
        let room = Self.unique("kill")
        let base = "ws://127.0.0.1:\(proxy.port)/rooms/chat/\(room)/ws"
        let writer = try WatchedRoomClient("\(base)?user=ann", options: .quickTest(after: 0))
        let reader = try WatchedRoomClient("\(base)?user=bob", options: .quickTest(after: 0))
        try await eventually("both open") {
            let (first, second) = (await writer.client.state, await reader.client.state)
            return first == .open && second == .open
        }
        try await withThrowingTaskGroup(of: Ack.self) { group in
            for index in 0..<50 { group.addTask { try await writer.client.send("a\(index)", id: "a\(index)") } }
            try await group.waitForAll()
        }
        try await server.stop(signal: SIGKILL)
        // Sends made while the server is down wait in the outbox.
        let second = Task {
            try await withThrowingTaskGroup(of: Ack.self) { group in
                for index in 0..<50 { group.addTask { try await writer.client.send("b\(index)", id: "b\(index)") } }
                return try await group.reduce(into: [Ack]()) { $0.append($1) }
            }
        }
        try await eventually("the sends to wait") { await writer.client.outboxCount == 50 }
        try await Task.sleep(for: .milliseconds(300))
        #expect(await writer.client.outboxCount == 50, "nothing acked while the server is down")
        (server, _) = try await Self.server(directory: directory)
        proxy.target = server.port
        let acks = try await second.value
        #expect(Set(acks.compactMap(\.seq)) == Set(51...100))
        try await eventually("the reader to catch up", timeout: .seconds(30)) { reader.messages.count >= 100 }
        try await Task.sleep(for: .milliseconds(100))
        Self.expectOrderedOnce(reader.messages, 100, "the reader")
        Self.expectOrderedOnce(writer.messages, 100, "the writer")
        let stored = try await Self.history(server, "/rooms/chat/\(room)")
        #expect(stored.count == 100)
        #expect(Set(stored.map(\.id)) == Set((0..<50).map { "a\($0)" } + (0..<50).map { "b\($0)" }))
        await writer.close()
        await reader.close()
        await proxy.stop()
        try await server.stop()
    }

    @Test(
        "tokens valid 2 seconds, refreshed by tokenProvider during a 5-second send loop: every send stored once, every message seen once, in order",
        .timeLimit(.minutes(1)))
    func tokenRefresh() async throws {
        let (server, _) = try await Self.server(jwt: true)
        let room = Self.unique("tok")
        let url = "ws://127.0.0.1:\(server.port)/rooms/chat/\(room)/ws"
        let minted = Atomic(0)
        let writer = try WatchedRoomClient(
            url,
            options: .quickTest(
                after: 0, token: Self.token("ann", seconds: 2),
                tokenProvider: {
                    minted.add(1, ordering: .relaxed)
                    return Self.token("ann", seconds: 2)
                }))
        let reader = try WatchedRoomClient(url, options: .quickTest(after: 0, token: Self.token("bob", seconds: 600)))
        let started = ContinuousClock.now
        let acks = try await withThrowingTaskGroup(of: Ack.self) { group in
            var index = 0
            while ContinuousClock.now - started < .seconds(5) {
                let current = index
                group.addTask { try await writer.client.send("t\(current)", id: "t\(current)") }
                index += 1
                try await Task.sleep(for: .milliseconds(50))
            }
            return try await group.reduce(into: [Ack]()) { $0.append($1) }
        }
        let total = acks.count
        #expect(minted.load(ordering: .relaxed) >= 1, "the token was refreshed")
        #expect(Set(acks.compactMap(\.seq)) == Set(1...total))
        try await eventually("the reader to see every message") { reader.messages.count >= total }
        try await eventually("the writer to see every message") { writer.messages.count >= total }
        Self.expectOrderedOnce(reader.messages, total, "the reader")
        Self.expectOrderedOnce(writer.messages, total, "the writer")
        #expect(writer.closed == nil, "the writer never stopped")
        await writer.close()
        await reader.close()
        try await server.stop()
    }

    @Test(
        "terminal closes: a deleted room (4404) stops the client and fails the send waiting; no token (4401, learnt over HTTP) and a failing tokenProvider are terminal",
        .timeLimit(.minutes(1)))
    func terminalCloses() async throws {
        let (server, _) = try await Self.server()
        let proxy = try await CuttableProxy.start(to: server.port)
        let room = Self.unique("gone")
        let client = try WatchedRoomClient(
            "ws://127.0.0.1:\(proxy.port)/rooms/chat/\(room)/ws?user=ann", options: .quickTest())
        let first = try await client.client.send("hello")
        #expect(first.seq == 1)
        // The next send reaches the proxy but not the server: it waits for its ack.
        proxy.pause(.upstream)
        let waiting = Task { () -> RoomsError? in
            do throws(RoomsError) {
                _ = try await client.client.send("too late", id: "late")
                return nil
            } catch {
                return error
            }
        }
        try await eventually("the send to wait") { await client.client.outboxCount == 1 }
        let deleted = try await server.http(.delete, "/rooms/chat/\(room)")
        #expect(deleted.status == 204)
        try await eventually("the terminal close") { client.closed != nil }
        #expect(client.closed?.code == 4404)
        #expect(await client.client.state == .closed)
        #expect(await waiting.value?.code == "closed", "the waiting send failed")
        await #expect(throws: RoomsError(code: "closed", message: "the client is closed")) {
            try await client.client.send("after the end")
        }
        await client.close()
        await proxy.stop()
        try await server.stop()

        let (locked, _) = try await Self.server(jwt: true)
        let noToken = try WatchedRoomClient("ws://127.0.0.1:\(locked.port)/rooms/chat/locked/ws", options: .quickTest())
        try await eventually("the terminal close") { noToken.closed != nil }
        #expect(noToken.closed?.code == 4401)
        #expect(noToken.seen.welcomes == 0)
        let refusing = try WatchedRoomClient(
            "ws://127.0.0.1:\(locked.port)/rooms/chat/locked/ws",
            options: .quickTest(tokenProvider: { throw RoomsError(code: "no_token_for_you") }))
        try await eventually("the terminal close") { refusing.closed != nil }
        #expect(refusing.closed?.code == 4401)
        #expect(refusing.closed?.reason == "token_refresh_failed")
        await noToken.close()
        await refusing.close()
        try await locked.stop()
    }

    @Test("the outbox is bounded: beyond its limit a send is refused with outbox_full; a frame too large with payload_too_large", .timeLimit(.minutes(1)))
    func boundedOutbox() async throws {
        var options = RoomClientOptions()
        options.outboxLimit = 3
        options.minBackoff = .seconds(1)
        let client = try WatchedRoomClient("ws://127.0.0.1:1/rooms/chat/nowhere/ws?user=ann", options: options)
        let waiting = (1...3).map { index in
            Task { () -> RoomsError? in
                do throws(RoomsError) {
                    _ = try await client.client.send("\(index)")
                    return nil
                } catch {
                    return error
                }
            }
        }
        try await eventually("three sends to wait") { await client.client.outboxCount == 3 }
        do throws(RoomsError) {
            _ = try await client.client.send("4")
            Issue.record("a fourth send was accepted")
        } catch {
            #expect(error.code == "outbox_full")
        }
        try await eventually("an outbox event to say full") { client.seen.outboxFull == 1 }
        do throws(RoomsError) {
            _ = try await client.client.send(String(repeating: "x", count: 70_000))
            Issue.record("a send larger than a frame was accepted")
        } catch {
            #expect(error.code == "payload_too_large")
        }
        await client.close()
        for send in waiting { #expect(await send.value?.code == "closed") }
        #expect(client.closed?.code == 1000)
        #expect(client.seen.states.last == .closed)
    }

    @Test(
        "presence, receipts and typing as live state; an AI answer streams into two clients; the inbox is a live list",
        .timeLimit(.minutes(1)))
    func liveState() async throws {
        let (server, _) = try await Self.server()
        let room = Self.unique("live")
        let base = "ws://127.0.0.1:\(server.port)/rooms/chat/\(room)/ws"
        let ann = try WatchedRoomClient("\(base)?user=ann", options: .quickTest())
        let bob = try WatchedRoomClient("\(base)?user=bob", options: .quickTest())
        try await eventually("both present") {
            let (first, second) = (await ann.client.presence.count, await bob.client.presence.count)
            return first == 2 && second == 2
        }
        #expect(await ann.client.online == 2)
        #expect(await ann.client.typing())
        try await eventually("bob to see ann typing") { bob.seen.typing.contains("ann") }
        #expect(!ann.seen.typing.contains("ann"), "the typist is not told")
        let ack = try await ann.client.send("read me")
        #expect(await bob.client.read(try #require(ack.seq)))
        try await eventually("ann to see bob's receipt") { await ann.client.receipts["bob"] == ack.seq }
        await bob.close()
        try await eventually("bob to leave") { await ann.client.presence.map(\.user) == ["ann"] }
        await ann.close()

        let ai = Self.unique("ai")
        let aiBase = "ws://127.0.0.1:\(server.port)/rooms/ai/\(ai)/ws"
        let asker = try WatchedRoomClient("\(aiBase)?user=ann", options: .quickTest())
        let watcher = try WatchedRoomClient("\(aiBase)?user=bob", options: .quickTest())
        try await eventually("both open") {
            let (first, second) = (await asker.client.state, await watcher.client.state)
            return first == .open && second == .open
        }
        #expect(await asker.client.sendFrame(["type": "ai.prompt", "text": "tell me something", "id": "q1"]))
        func done(_ client: WatchedRoomClient) async -> AnswerStream? {
            await client.client.streams.values.first { $0.done }
        }
        try await eventually("the answer in both") {
            let (first, second) = (await done(asker), await done(watcher))
            return first != nil && second != nil
        }
        let answer = try #require(await done(watcher))
        #expect(!answer.text.isEmpty)
        #expect(answer.status == "complete")
        #expect(answer.replyTo == 1)
        #expect(await done(asker)?.text == answer.text, "the same text, streamed into both")
        // The answer is stored too, and reaches the app as an ordinary message with the same text.
        try await eventually("the stored answer") { watcher.messages.contains { $0.seq == answer.seq } }
        let stored = try #require(watcher.messages.first { $0.seq == answer.seq })
        #expect(stored.text == answer.text)
        #expect(stored.fields["stream"]?.stringValue == answer.stream)
        await asker.close()
        await watcher.close()

        let team = Self.unique("t")
        let created = try await server.http(
            .post, "/rooms/team/\(team)?user=bob", body: #"{"members": [{"user": "ann", "role": "member"}]}"#)
        #expect(created.status == 201, "\(created.body)")
        let inbox = try WatchedRoomClient("ws://127.0.0.1:\(server.port)/inbox/ws?user=ann", options: .quickTest())
        try await eventually("the inbox to list the room") { await inbox.client.inbox["team/\(team)"] != nil }
        let posted = try await server.http(.post, "/rooms/team/\(team)/messages?user=bob", body: #"{"text": "for ann"}"#)
        #expect(posted.status == 201, "\(posted.body)")
        try await eventually("the inbox to count it unread") { await inbox.client.inbox["team/\(team)"]?.unread == 1 }
        #expect(await inbox.client.inbox["team/\(team)"]?.last?.text == "for ann")
        try await eventually("the inbox event to carry it") {
            inbox.seen.inbox.contains { $0.key == "team/\(team)" && $0.unread == 1 }
        }
        let removed = try await server.http(.delete, "/rooms/team/\(team)/members/ann?user=bob")
        #expect(removed.status == 204, "\(removed.body)")
        try await eventually("the room to leave the inbox") { await inbox.client.inbox["team/\(team)"] == nil }
        await inbox.close()
        try await server.stop()
    }

    @Test(
        "a first connection without after sees what comes after it joined; a recreated room (new epoch) resets and starts again from seq 1",
        .timeLimit(.minutes(1)))
    func baselineAndReset() async throws {
        let (server, _) = try await Self.server()
        let room = Self.unique("fresh")
        let path = "/rooms/chat/\(room)"
        let before = try await server.http(.post, "\(path)/messages", body: #"{"user": "x", "text": "before"}"#)
        #expect(before.status == 201)
        let client = try WatchedRoomClient("ws://127.0.0.1:\(server.port)\(path)/ws?user=ann", options: .quickTest())
        try await eventually("open") { await client.client.state == .open }
        #expect(await client.client.lastSeq == 1, "the baseline is the welcome's lastSeq")
        _ = try await client.client.send("after")
        try await eventually("the message") { client.messages.count == 1 }
        #expect(client.messages.first?.text == "after")
        #expect(client.messages.first?.seq == 2)
        let epoch = try #require(await client.client.epoch)
        await client.close()
        #expect(client.seen.resets == 0)

        #expect(try await server.http(.delete, path).status == 204)
        let again = try await server.http(.post, "\(path)/messages", body: #"{"user": "x", "text": "new room"}"#)
        #expect(again.status == 201)
        var options = RoomClientOptions.quickTest(after: 2)
        options.epoch = epoch
        let resumed = try WatchedRoomClient("ws://127.0.0.1:\(server.port)\(path)/ws?user=ann", options: options)
        try await eventually("the new room's message") { resumed.messages.count == 1 }
        #expect(resumed.seen.resets == 1, "a reset was emitted")
        #expect(resumed.messages.map(\.seq) == [1])
        #expect(resumed.messages.first?.text == "new room")
        #expect(await resumed.client.epoch != epoch)
        await resumed.close()
        try await server.stop()
    }

    @Test(
        "a connect that hangs mid-upgrade is abandoned after connectTimeout; a dead link (no pong) is noticed; both reconnect and resume",
        .timeLimit(.minutes(1)))
    func hangsAndDeadLinks() async throws {
        let (server, _) = try await Self.server()
        let proxy = try await CuttableProxy.start(to: server.port)
        proxy.mode = .hold
        var options = RoomClientOptions.quickTest(after: 0)
        options.connectTimeout = .milliseconds(400)
        options.pingInterval = .milliseconds(200)
        options.pongTimeout = .milliseconds(400)
        let room = Self.unique("hang")
        let client = try WatchedRoomClient("ws://127.0.0.1:\(proxy.port)/rooms/chat/\(room)/ws?user=ann", options: options)
        try await eventually("a second attempt after the first hung") { proxy.accepted >= 2 }
        #expect(await client.client.state != .open)
        #expect(client.seen.welcomes == 0)
        proxy.mode = .forward
        proxy.cut()
        try await eventually("open once the proxy forwards") { await client.client.state == .open }
        let first = try await client.client.send("one")
        #expect(first.seq == 1)

        // The server's frames stop coming (pongs included): the client must notice by itself.
        let accepted = proxy.accepted
        let statesBefore = client.seen.states.count
        proxy.pause(.downstream)
        try await eventually("the dead link noticed") { client.seen.states.dropFirst(statesBefore).contains(.waiting) }
        try await eventually("a new connection") { proxy.accepted > accepted }
        proxy.resume(.downstream)
        proxy.cut()
        try await eventually("open again") { await client.client.state == .open }
        let second = try await client.client.send("two")
        #expect(second.seq == 2)
        try await eventually("both messages") { client.messages.count == 2 }
        Self.expectOrderedOnce(client.messages, 2, "the client")
        await client.close()
        await proxy.stop()
        try await server.stop()
    }

    @Test(
        "garbage: a malformed URL is invalid_url; frames that are not JSON, not objects, untyped or of unknown types are ignored and the client goes on",
        .timeLimit(.minutes(1)))
    func garbage() async throws {
        for url in [
            "http://127.0.0.1:1/rooms/chat/x/ws", "ws://127.0.0.1:1/rooms/chat/ws", "ws://127.0.0.1:1/rooms/chat/x",
            "ws://127.0.0.1:1/chat/x/ws", "ws://127.0.0.1:1/rooms/chat/x/ws/more", "not a url", "",
        ] {
            #expect(throws: RoomsError.self, "\(url)") {
                do throws(RoomsError) {
                    _ = try RoomClient(url: url)
                } catch {
                    #expect(error.code == "invalid_url", "\(url): \(error)")
                    throw error
                }
            }
        }
        let fake = try await ScriptedWebSocketServer.start(script: [
            .text("not json"), .text("[1, 2]"), .text(#"{"no": "type"}"#), .text(#"{"type": 7}"#),
            .binary([0xff, 0x00]),
            .text(#"{"type": "welcome", "kind": "chat", "room": "x", "user": "ann", "lastSeq": 0, "epoch": "e1", "recovered": true, "present": "nobody"}"#),
            .text(#"{"type": "mystery", "seq": 99}"#), .text("{\"type\": \"message\""),
            .text(#"{"type": "message", "seq": "one", "text": "bad seq"}"#),
            .text(#"{"type": "message", "seq": 1, "id": "m1", "user": "bob", "text": "first", "ts": 1, "extra": [true]}"#),
            .text(#"{"type": "presence", "event": "join"}"#), .text(#"{"type": "receipt", "user": 3}"#),
            .text(#"{"type": "ai.delta", "stream": "s", "index": 5, "text": "x"}"#), .text(#"{"type": "ack"}"#),
            .text(#"{"type": "message", "seq": 2, "id": "m2", "user": "bob", "text": "second", "ts": 2}"#),
        ])
        let client = try WatchedRoomClient("ws://127.0.0.1:\(fake.port)/rooms/chat/x/ws?user=ann", options: .quickTest(after: 0))
        try await eventually("both good messages") { client.messages.count == 2 }
        #expect(client.messages.map(\.text) == ["first", "second"])
        #expect(client.messages.first?.fields["extra"] == [true])
        #expect(await client.client.state == .open)
        #expect(client.seen.frameTypes.contains("mystery"), "an unknown type still reaches .frame")
        #expect(client.seen.welcomes == 1, "no reconnect")
        await client.close()
        await fake.stop()
    }
}

extension RoomClientOptions {
    /// Options for tests: quick reconnects and HTTP requests.
    static func quickTest(
        after: Int? = nil, token: String? = nil, tokenProvider: (@Sendable () async throws -> String)? = nil
    ) -> RoomClientOptions {
        WatchedRoomClient.quick(after: after, token: token, tokenProvider: tokenProvider)
    }
}
