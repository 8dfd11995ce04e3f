import AIRooms
import Crypto
import Foundation
import HTTPTypes
import NIOWebSocket
import PostgresTesting
import Synchronization
import RoomTesting
@_spi(Node) import RoomRuntime
import Testing
import WSCore

/// Clients on one node of a cluster, in rooms another node owns: every transport is forwarded over
/// the nodes' link. Nested in ``ClusterProcessTests`` (serialized): one cluster of processes runs
/// at a time, so that a loaded 2-core CI machine is not given two.
extension ClusterProcessTests {
    @Suite("Forwarding between the nodes of a cluster")
    struct Forwarding {
        static let kinds = #"""
            {"chat": {"class": "chat"},
             "ai": {"class": "ai-chat", "provider": {"type": "local", "tokensPerSecond": 200, "maxTokens": 12}}}
            """#

        @Test("a client on node a chats in a room node c owns: WebSocket messages, presence and typing, HTTP, long polls, SSE, STOMP and AI streams all flow through a; c stopping sends a's clients 1012, and they resume with no gap")
        func clientOnAnotherNode() async throws {
            let cluster = try await ClusterFixture.start()
            let postgres = cluster.postgres
            let a = try await cluster.node("a", kinds: Self.kinds)
            let b = try await cluster.node("b", kinds: Self.kinds)
            let c = try await cluster.node("c", kinds: Self.kinds)

            // c takes both rooms.
            let first = try await c.http(.post, "/rooms/chat/lobby/messages", body: #"{"user": "cy", "text": "first", "id": "c0"}"#)
            #expect(first.status == 201, "\(first.body)")
            let bot = try await c.socket("/rooms/ai/bot/ws?user=cy")
            _ = try await bot.waitFor(1, "welcome")
            #expect(try await postgres.psql("SELECT string_agg(id || '=' || owner, ',' ORDER BY id) FROM rooms_owners") == "bot=c,lobby=c")

            // WebSocket through a, and a client on c itself: messages and presence both ways.
            let ann = try await a.socket("/rooms/chat/lobby/ws?user=ann")
            let annWelcome = try await ann.waitFor(1, "welcome")[0]
            #expect(annWelcome["lastSeq"] as? Int == 1, "\(annWelcome)")
            let cy = try await c.socket("/rooms/chat/lobby/ws?user=cy")
            _ = try await cy.waitFor(1, "welcome")
            let joined = try await ann.waitFor(2, "presence")
            #expect(joined.compactMap { $0["user"] as? String } == ["ann", "cy"], "\(joined)")
            ann.send(json: ["type": "send", "id": "a1", "text": "from a"])
            let ack = try await ann.waitFor(1, "ack")[0]
            #expect(ack["seq"] as? Int == 2, "\(ack)")
            #expect(try await cy.waitFor(1, "message")[0]["text"] as? String == "from a")
            cy.send(json: ["type": "typing"])
            #expect(try await ann.waitFor(1, "typing")[0]["user"] as? String == "cy")
            cy.send(json: ["type": "send", "id": "c1", "text": "from c"])
            #expect(try await ann.waitFor(2, "message").map { $0["text"] as? String } == ["from a", "from c"])
            // A frame the room refuses is answered through the link too.
            ann.send(json: ["type": "send", "id": "bad"])
            #expect(try await ann.waitFor(1, "error")[0]["code"] as? String == "missing_field")

            // HTTP through b: a send, the history, the room's info; a long poll through a wakes
            // when c stores a message.
            let posted = try await b.http(.post, "/rooms/chat/lobby/messages", body: #"{"user": "bea", "text": "from b", "id": "b1"}"#)
            #expect(posted.status == 201, "\(posted.body)")
            #expect(posted.json["seq"] as? Int == 4)
            let again = try await b.http(.post, "/rooms/chat/lobby/messages", body: #"{"user": "bea", "text": "from b", "id": "b1"}"#)
            #expect(again.json["seq"] as? Int == 4, "the same id is the same message, forwarded or not")
            #expect(try await ClusterProcessTests.history(b, "lobby").map(\.text) == ["first", "from a", "from c", "from b"])
            async let polled = a.http(.get, "/rooms/chat/lobby/messages?after=4&wait=10")
            try await Task.sleep(for: .milliseconds(500))
            _ = try await c.http(.post, "/rooms/chat/lobby/messages", body: #"{"user": "cy", "text": "wake", "id": "c2"}"#)
            let poll = try await polled
            #expect(poll.status == 200)
            #expect((poll.json["messages"] as? [[String: Any]])?.compactMap { $0["text"] as? String } == ["wake"])
            let missing = try await a.http(.post, "/rooms/chat/lobby/messages", body: #"{"user": "ann"}"#)
            #expect(missing.status == 400)
            #expect(missing.errorCode == "missing_field", "the owner's error comes back as it was")

            // SSE through b and STOMP through a.
            let stream = try await EventStreamClient.open(port: b.port, "/rooms/chat/lobby/events?user=eve&after=4")
            #expect(stream.status == 200)
            _ = try await stream.waitFor(1, "welcome")
            #expect(try await stream.waitFor(1, "message").first?.id == "5")
            let stomp = try await StompTestClient.connect(a, headers: [("accept-version", "1.2"), ("login", "sam")])
            stomp.send("SUBSCRIBE", [("destination", "/topic/rooms/chat/lobby"), ("id", "s1"), ("receipt", "sub")])
            _ = try await stomp.waitForReceipt("sub")
            stomp.send("SEND", [("destination", "/topic/rooms/chat/lobby"), ("receipt", "r1")], body: #"{"text": "from stomp", "id": "s1"}"#)
            _ = try await stomp.waitForReceipt("r1")
            #expect(try await stomp.waitForMessages(1, subscription: "s1").first?["text"] as? String == "from stomp")
            #expect(try await stream.waitFor(2, "message").last?.id == "6")
            #expect(try await ann.waitFor(5, "message").last?["text"] as? String == "from stomp")

            // An AI room's stream, prompted through a: every token reaches a's client and c's.
            let ai = try await a.socket("/rooms/ai/bot/ws?user=ann")
            _ = try await ai.waitFor(1, "welcome")
            ai.send(json: ["type": "ai.prompt", "id": "q1", "text": "hello"])
            let end = try await ai.waitFor(1, "ai.end", timeout: .seconds(20))[0]
            #expect(end["status"] as? String == "complete", "\(end)")
            let deltas = ai.frames(ofType: "ai.delta").count
            #expect(deltas > 0)
            _ = try await bot.waitFor(1, "ai.end", timeout: .seconds(20))
            #expect(bot.frames(ofType: "ai.delta").count == deltas, "c's client got the same stream")

            // The cluster's view: c owns both rooms; a and b none.
            let view = try await a.http(.get, "/cluster").json
            let rooms = (view["nodes"] as? [[String: Any]] ?? []).map { "\($0["id"] as? String ?? "?")=\($0["rooms"] as? Int ?? -1)" }
            #expect(rooms == ["a=0", "b=0", "c=2"])

            // c stops: it hands the rooms over, the link to it closes, and a's clients are told to
            // reconnect now (1012). Reconnected through a with `after`, ann misses nothing.
            let lastSeen = ann.frames(ofType: "message").compactMap { $0["seq"] as? Int }.max() ?? 0
            #expect(try await c.stop(signal: SIGTERM) == 0)
            let farewell = try await ann.closed()
            #expect(farewell?.closeCode == .init(codeNumber: 1012), "\(String(describing: farewell))")
            stream.close()
            let posted2 = try await b.http(.post, "/rooms/chat/lobby/messages", body: #"{"user": "bea", "text": "after c", "id": "b2"}"#)
            #expect(posted2.status == 201, "\(posted2.body)")
            let back = try await a.socket("/rooms/chat/lobby/ws?user=ann&after=\(lastSeen)")
            let resumed = try await back.waitFor(1, "message")
            #expect(resumed.map { $0["text"] as? String } == ["after c"])
            #expect(resumed.first?["seq"] as? Int == lastSeen + 1, "no gap")
            let history = try await ClusterProcessTests.history(a, "lobby")
            #expect(history.map(\.seq) == Array(1...history.count))
            #expect(try await a.stop() == 0)
            #expect(try await b.stop() == 0)
        }

        @Test("GET /rooms on any node lists every node's rooms; a schedule of a room whose node was killed runs on another node, with no client")
        func directoryAndSchedules() async throws {
            let cluster = try await ClusterFixture.start()
            let postgres = cluster.postgres
            let a = try await cluster.node("a", kinds: Self.kinds)
            let b = try await cluster.node("b", kinds: Self.kinds)
            for (node, room) in [(a, "on-a"), (b, "on-b")] {
                let posted = try await node.http(.post, "/rooms/chat/\(room)/messages", body: #"{"user": "ann", "text": "hi"}"#)
                #expect(posted.status == 201)
            }
            let first = try await a.http(.post, "/rooms/chat/later/messages", body: #"{"user": "ann", "text": "first"}"#)
            #expect(first.status == 201)

            // Each node lists all three (copied about once a second), in order, with pages.
            var listed: [String] = []
            let deadline = ContinuousClock.now + .seconds(10)
            while ContinuousClock.now < deadline {
                listed = (try await b.http(.get, "/rooms?kind=chat").json["rooms"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String }
                if listed.count == 3 { break }
                try await Task.sleep(for: .milliseconds(200))
            }
            #expect(listed == ["later", "on-a", "on-b"])
            #expect(try await a.http(.get, "/rooms/chat/on-b").json["exists"] as? Bool == true)
            let firstPage = try await a.http(.get, "/rooms?limit=2").json
            #expect((firstPage["rooms"] as? [[String: Any]])?.compactMap { $0["id"] as? String } == ["later", "on-a"])
            let cursor = try #require(firstPage["cursor"] as? String)
            let secondPage = try await a.http(.get, "/rooms?limit=2&cursor=\(cursor)").json
            #expect((secondPage["rooms"] as? [[String: Any]])?.compactMap { $0["id"] as? String } == ["on-b"])
            #expect(secondPage["cursor"] == nil || secondPage["cursor"] is NSNull)
            #expect(((try await a.http(.get, "/rooms?prefix=on-").json["rooms"] as? [[String: Any]]) ?? []).count == 2)
            #expect(try await a.http(.get, "/rooms?limit=0").errorCode == "invalid_query")
            #expect(try await a.http(.get, "/rooms?cursor=garbage").errorCode == "invalid_query")
            #expect(try await a.http(.get, "/rooms?kind=nope").errorCode == "unknown_kind")

            // DELETE through b of a room a owns: forwarded to a, which removes the file.
            let deleted = try await b.http(.delete, "/rooms/chat/on-a")
            #expect(deleted.status == 204, "\(deleted.body)")
            #expect(try await b.http(.get, "/rooms/chat/on-a").json["exists"] as? Bool == false, "its file is gone")
            #expect(try await b.http(.delete, "/rooms/chat/on-a").status == 404)
            #expect(try await b.http(.delete, "/rooms/nope/x").errorCode == "unknown_kind")

            // A message a's room schedules for 8 s from now, once the cluster's directory has its
            // alarm (copied about once a second); then a is killed before it is due, and b runs it
            // once a's lease lapsed, though nobody asks b for the room.
            let deliverAt = Int64(Date().timeIntervalSince1970 * 1000) + 8_000
            let scheduled = try await a.http(
                .post, "/rooms/chat/later/messages", body: #"{"user": "ann", "text": "on time", "id": "s1", "deliverAt": \#(deliverAt)}"#)
            #expect(scheduled.status == 202, "\(scheduled.body)")
            var copied = false
            let copyDeadline = ContinuousClock.now + .seconds(5)
            while !copied, ContinuousClock.now < copyDeadline {
                copied = try await postgres.psql("SELECT next_alarm <= \(deliverAt) FROM rooms_directory WHERE id = 'later'") == "t"
                if !copied { try await Task.sleep(for: .milliseconds(100)) }
            }
            #expect(copied, "the alarm reached the cluster's directory")
            try await a.stop(signal: SIGKILL)
            #expect(Int64(Date().timeIntervalSince1970 * 1000) < deliverAt, "a was killed before the message was due")
            var delivered: [(seq: Int, text: String)] = []
            let due = ContinuousClock.now + .seconds(8 + ClusterFixture.lease + 10)
            while ContinuousClock.now < due {
                if try await postgres.psql("SELECT owner FROM rooms_owners WHERE id = 'later'") == "b" {
                    delivered = try await ClusterProcessTests.history(b, "later")
                    if delivered.count == 2 { break }
                }
                try await Task.sleep(for: .milliseconds(250))
            }
            #expect(delivered.map(\.text) == ["first", "on time"])
            // b's copy of its directory says the room has no schedule left.
            var cleared = false
            let clearDeadline = ContinuousClock.now + .seconds(5)
            while !cleared, ContinuousClock.now < clearDeadline {
                cleared = try await postgres.psql("SELECT next_alarm IS NULL FROM rooms_directory WHERE id = 'later'") == "t"
                if !cleared { try await Task.sleep(for: .milliseconds(200)) }
            }
            #expect(cleared)
            #expect(try await b.stop() == 0)
        }

        @Test("with tokens: a verified identity is forwarded; a members room admits its member and refuses others through another node; /cluster is for admins; /owner refuses garbage")
        func tokensAcrossNodes() async throws {
            let cluster = try await ClusterFixture.start()
            let mint = try await TokenMint.make()
            let kinds = #"{"chat": {"class": "chat"}, "team": {"class": "chat", "access": "members"}}"#
            var nodes: [ServerProcess] = []
            for id in ["a", "b"] {
                nodes.append(
                    try await cluster.node(
                        id, kinds: kinds, sections: #""auth": {"mode": "jwt", "secretEnv": "\#(TokenMint.variable)"}"#,
                        environment: [TokenMint.variable: TokenMint.secret]))
            }
            let (a, b) = (nodes[0], nodes[1])
            let ann = try await mint.hs256("ann")
            let mallory = try await mint.hs256("mallory")
            let admin = try await mint.hs256("root", 300, ["admin": .bool(true)])
            func bearer(_ token: String) -> HTTPFields { [.authorization: "Bearer \(token)"] }

            // b creates ann's room and owns it; through a, ann enters as herself and mallory does not.
            let created = try await b.http(.post, "/rooms/team/t1", body: "{}", headers: bearer(ann))
            #expect(created.status == 201, "\(created.body)")
            let socket = try await a.socket("/rooms/team/t1/ws", headers: bearer(ann))
            #expect(try await socket.waitFor(1, "welcome")[0]["user"] as? String == "ann")
            socket.send(json: ["type": "send", "id": "1", "text": "hi", "user": "mallory"])
            #expect(try await socket.waitFor(1, "message")[0]["user"] as? String == "ann", "the verified user, not the claimed one")
            let refused = try await a.refusedUpgrade("/rooms/team/t1/ws", headers: bearer(mallory))
            #expect(refused.status == 403, "\(refused.body)")
            #expect(try await a.http(.get, "/rooms/team/t1/messages", headers: bearer(mallory)).status == 403)
            #expect(try await a.http(.get, "/rooms/team/t1/messages", headers: bearer(ann)).status == 200)

            // GET /cluster: admins only.
            #expect(try await a.http(.get, "/cluster").status == 401)
            #expect(try await a.http(.get, "/cluster", headers: bearer(ann)).status == 403)
            #expect(try await a.http(.get, "/cluster", headers: bearer(admin)).json["cluster"] as? Bool == true)
            // GET .../owner: authenticated, and garbage refused.
            #expect(try await a.http(.get, "/rooms/team/t1/owner").status == 401)
            #expect(try await a.http(.get, "/rooms/team/t1/owner", headers: bearer(ann)).json["node"] as? String == "b")
            #expect(try await a.http(.get, "/rooms/nope/t1/owner", headers: bearer(ann)).errorCode == "unknown_kind")
            #expect(try await a.http(.get, "/rooms/team/%FF/owner", headers: bearer(ann)).errorCode == "invalid_room_id")
            #expect(try await a.http(.get, "/rooms/team/\(String(repeating: "x", count: 300))/owner", headers: bearer(ann)).errorCode == "invalid_room_id")
            #expect(try await a.stop() == 0)
            #expect(try await b.stop() == 0)
        }

        @Test("inbox deliveries and calls cross nodes: a members room on b updates an inbox that a owns, live on a's inbox socket")
        func inboxAcrossNodes() async throws {
            let cluster = try await ClusterFixture.start()
            let postgres = cluster.postgres
            let kinds = #"{"team": {"class": "chat", "access": "members", "inboxDelayMilliseconds": 0}}"#
            var nodes: [ServerProcess] = []
            for id in ["a", "b"] {
                nodes.append(try await cluster.node(id, kinds: kinds))
            }
            let (a, b) = (nodes[0], nodes[1])
            // Bob's inbox is a's; the team room is b's.
            let inbox = try await a.socket("/inbox/ws?user=bob")
            _ = try await inbox.waitFor(1, "welcome")
            let created = try await b.http(.post, "/rooms/team/core?user=ann", body: #"{"members": [{"user": "bob", "role": "member"}]}"#)
            #expect(created.status == 201, "\(created.body)")
            let posted = try await b.http(.post, "/rooms/team/core/messages?user=ann", body: #"{"text": "for bob"}"#)
            #expect(posted.status == 201, "\(posted.body)")
            #expect(try await postgres.psql("SELECT string_agg(kind || '/' || id || '=' || owner, ',' ORDER BY kind, id) FROM rooms_owners WHERE kind <> 'team' OR id = 'core'").contains("inbox/bob=a"))
            #expect(try await postgres.psql("SELECT owner FROM rooms_owners WHERE kind = 'team' AND id = 'core'") == "b")
            try await eventually("bob's inbox socket on a streams the message b's room stored") {
                inbox.frames(ofType: "inbox").contains {
                    (($0["room"] as? [String: Any])?["last"] as? [String: Any])?["text"] as? String == "for bob"
                }
            }
            let page = try await b.http(.get, "/inbox?user=bob")
            let room = (page.json["rooms"] as? [[String: Any]])?.first
            #expect(room?["id"] as? String == "core" && room?["unread"] as? Int == 1, "\(page.body)")
            #expect(try await a.stop() == 0)
            #expect(try await b.stop() == 0)
        }

        @Test("kill -9 of the owner during a send storm through the other nodes: every acknowledged message is kept once, gap-free, and a listener forwarded from another node resumes with no gap")
        func killDuringStorm() async throws {
            let cluster = try await ClusterFixture.start()
            let a = try await cluster.node("a", kinds: Self.kinds)
            let b = try await cluster.node("b", kinds: Self.kinds)
            let c = try await cluster.node("c", kinds: Self.kinds)
            #expect(try await a.http(.post, "/rooms/chat/storm/messages", body: #"{"user": "ann", "text": "m0", "id": "m0"}"#).status == 201)
            let listener = try await b.socket("/rooms/chat/storm/ws?user=lis&after=0")
            _ = try await listener.waitFor(1, "welcome")

            // Two senders through b and c (forwarded to a), each retrying a message with its id
            // until some node stores it.
            let storm = StormState()
            let senders = (0..<2).map { sender in
                Task {
                    var index = 0
                    while storm.running.load(ordering: .relaxed) {
                        index += 1
                        let text = "s\(sender)-\(index)"
                        let deadline = ContinuousClock.now + .seconds(20)
                        while ContinuousClock.now < deadline {
                            let node = Bool.random() ? b : c
                            if let answer = try? await node.http(
                                .post, "/rooms/chat/storm/messages", body: #"{"user": "ann", "text": "\#(text)", "id": "\#(text)"}"#),
                                answer.status == 201, let seq = answer.json["seq"] as? Int
                            {
                                storm.acknowledged.withLock { $0[seq] = text }
                                // A storm, not a flood: the machine runs other tests meanwhile.
                                try? await Task.sleep(for: .milliseconds(40))
                                break
                            }
                            try? await Task.sleep(for: .milliseconds(50))
                        }
                    }
                }
            }
            try await Task.sleep(for: .seconds(1))
            let beforeKill = storm.acknowledged.withLock { $0.count }
            try await a.stop(signal: SIGKILL)
            // b's link to a ends: its forwarded listener is told to reconnect now.
            let farewell = try await listener.closed()
            #expect(farewell?.closeCode == .init(codeNumber: 1012), "\(String(describing: farewell))")
            let seen = listener.frames(ofType: "message").compactMap { $0["seq"] as? Int }
            // The storm goes on until another node serves the room and takes a few more.
            let served = ContinuousClock.now + .seconds(ClusterFixture.lease + 15)
            while storm.acknowledged.withLock({ $0.count }) < beforeKill + 10, ContinuousClock.now < served {
                try await Task.sleep(for: .milliseconds(100))
            }
            storm.running.store(false, ordering: .relaxed)
            for sender in senders { await sender.value }
            let acked = storm.acknowledged.withLock { $0 }
            #expect(acked.count >= beforeKill + 10, "served again after the kill: \(beforeKill) then \(acked.count)")

            let history = try await ClusterProcessTests.history(c, "storm")
            #expect(history.map(\.seq) == Array(1...max(1, history.count)), "gap-free")
            #expect(Set(history.map(\.text)).count == history.count, "no message twice")
            for (seq, text) in acked {
                #expect(history.first { $0.seq == seq }?.text == text, "acknowledged \(text) at \(seq) is kept")
            }
            // The listener resumes through c from the last seq it saw: together, every message once.
            let resumed = try await c.socket("/rooms/chat/storm/ws?user=lis&after=\(seen.max() ?? 0)")
            let rest = history.count - (seen.max() ?? 0)
            let replayed = rest > 0 ? try await resumed.waitFor(rest, "message").compactMap { $0["seq"] as? Int } : []
            #expect((seen + replayed).sorted() == Array(1...history.count), "no gap, no repeat across the two connections")
            #expect(try await b.stop() == 0)
            #expect(try await c.stop() == 0)
        }

        @Test("a link refuses whoever lacks the cluster's token, and closes on a malformed frame; the node goes on serving")
        func linkGarbage() async throws {
            let cluster = try await ClusterFixture.start()
            let postgres = cluster.postgres
            let a = try await cluster.node("a", kinds: Self.kinds)
            for authorization in [nil, "", "RoomsLink a 1 00", "RoomsLink b \(Int(Date().timeIntervalSince1970)) \(String(repeating: "0", count: 64))", "Bearer x"] {
                var headers: HTTPFields = [:]
                if let authorization { headers[.authorization] = authorization }
                let refused = try await a.refusedUpgrade("/cluster/link", headers: headers)
                #expect(refused.status == 401, "\(authorization ?? "none"): \(refused.body)")
                #expect(refused.errorCode == "unauthorized")
            }
            // The right token (the secret read from PostgreSQL as a node would), then garbage on the link.
            let secret = try await postgres.psql("SELECT encode(link_secret, 'hex') FROM rooms_cluster")
            // Computed here as docs/CLUSTER.md says, not with the server's code.
            let time = Int(Date().timeIntervalSince1970)
            let mac = HMAC<SHA256>.authenticationCode(
                for: Data("rooms-link\nintruder\n\(time)".utf8), using: SymmetricKey(data: [UInt8](hex: secret)))
            let token = "RoomsLink intruder \(time) \(mac.map { String(format: "%02x", $0) }.joined())"
            for garbage: [UInt8] in [[0, 0, 0, 1, 9], [0, 0, 0, 9, 99, 0, 0, 0, 1, 0, 0, 0, 0], [0xFF, 0xFF, 0xFF, 0xFF]] {
                let link = try await a.socket("/cluster/link", headers: [.authorization: token])
                link.sendBinary(garbage)
                let close = try await link.closed()
                #expect(close?.closeCode == .init(codeNumber: 1008), "\(garbage): \(String(describing: close))")
            }
            let text = try await a.socket("/cluster/link", headers: [.authorization: token])
            text.send("hello")
            #expect(try await text.closed()?.closeCode == .init(codeNumber: 1008))
            #expect(try await a.http(.get, "/healthz").status == 200)
            #expect(try await a.stop() == 0)
        }
    }
}

/// What the storm's senders and the test share.
final class StormState: Sendable {
    /// Acknowledged messages: seq to text (the first posted before the storm).
    let acknowledged = Mutex<[Int: String]>([1: "m0"])
    let running = Atomic(true)
}

extension [UInt8] {
    /// The bytes `hex` spells.
    init(hex: String) {
        var bytes: [UInt8] = []
        var index = hex.startIndex
        while index < hex.endIndex, let next = hex.index(index, offsetBy: 2, limitedBy: hex.endIndex) {
            bytes.append(UInt8(hex[index..<next], radix: 16) ?? 0)
            index = next
        }
        self = bytes
    }
}
