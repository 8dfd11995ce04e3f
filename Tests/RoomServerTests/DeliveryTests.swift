import Foundation
import GRDB
import HTTPTypes
@_spi(Node) import RoomRuntime
import RoomServer
import RoomTesting
import TestSupport
import Testing

/// Read receipts, unread counts, inboxes and per-user presence, end to end over real sockets,
/// without authentication (`?user=` names the caller).
@Suite("Receipts, inboxes and presence", .watched)
struct DeliveryTests {
    static func start(dataDirectory: URL? = nil, chat: [String: JSONValue] = [:]) async throws -> TestServer {
        try await TestServer.start(dataDirectory: dataDirectory) { configuration in
            let chatClass = configuration.runtime.kinds["chat"]!.roomClass
            configuration.runtime.kinds["chat"] = try! RoomKind(name: "chat", roomClass: chatClass, options: chat)
            configuration.runtime.kinds["team"] = try! RoomKind(
                name: "team", roomClass: chatClass, options: chat, access: .members)
            configuration.runtime.kinds["dm"] = try! RoomKind(name: "dm", roomClass: chatClass, access: .direct)
        }
    }

    /// The rooms of `user`'s inbox, by `kind/id`.
    static func inbox(_ server: some ServerEndpoint, _ user: String) async throws -> [String: [String: Any]] {
        let page = try await server.http(.get, "/inbox?user=\(user)")
        #expect(page.status == 200, "\(page.body)")
        var rooms: [String: [String: Any]] = [:]
        for room in page.json["rooms"] as? [[String: Any]] ?? [] {
            rooms["\(room["kind"]!)/\(room["id"]!)"] = room
        }
        return rooms
    }

    @Test("receipts, unread counts and inboxes across two members and a direct room")
    func receiptsAndInboxes() async throws {
        let server = try await Self.start(chat: ["receiptIntervalMilliseconds": 400])
        defer { Task { try? await server.stopAndRemove() } }
        let created = try await server.http(
            .post, "/rooms/team/core?user=ann", body: #"{"members": [{"user": "bob", "role": "member"}]}"#)
        #expect(created.status == 201)
        // Both inboxes list the room as soon as it exists, with nothing in it yet.
        try await eventually("bob's inbox lists the room") { try await Self.inbox(server, "bob")["team/core"] != nil }
        let empty = try await Self.inbox(server, "bob")["team/core"]!
        #expect(empty["lastSeq"] as? Int == 0 && empty["unread"] as? Int == 0 && empty["last"] == nil)
        #expect(try await Self.inbox(server, "ann")["team/core"] != nil)

        let ann = try await server.socket("/rooms/team/core/ws?user=ann")
        try await ann.waitFor(1, "welcome")
        for index in 1...3 { ann.send(json: ["type": "send", "id": "a\(index)", "text": "hello \(index)"]) }
        try await ann.waitFor(3, "ack")

        // Bob's welcome carries his cursor and what it leaves unread; the sender's own are not.
        let bob = try await server.socket("/rooms/team/core/ws?user=bob")
        let welcome = try await bob.waitFor(1, "welcome")[0]
        #expect(welcome["readSeq"] as? Int == 0 && welcome["unread"] as? Int == 3, "\(welcome)")
        let annAgain = try await server.socket("/rooms/team/core/ws?user=ann")
        let annWelcome = try await annAgain.waitFor(1, "welcome")[0]
        #expect(annWelcome["unread"] as? Int == 0, "\(annWelcome)")

        // Reads move the cursor forward only; every one is told, throttled to the latest.
        bob.send(#"{"type": "read", "seq": 1}"#)
        bob.send(#"{"type": "read", "seq": 2}"#)
        bob.send(#"{"type": "read", "seq": 1}"#)
        let receipts = try await ann.waitFor(2, "receipt")
        #expect(receipts.map { $0["seq"] as? Int } == [1, 2], "\(receipts)")
        #expect(receipts.allSatisfy { $0["user"] as? String == "bob" })
        try await Task.sleep(for: .milliseconds(600))
        #expect(ann.frames(ofType: "receipt").count == 2, "a read backwards is not a receipt")
        let list = try await server.http(.get, "/rooms/team/core/receipts?user=ann")
        #expect(list.status == 200, "\(list.body)")
        let byUser = Dictionary(
            uniqueKeysWithValues: (list.json["receipts"] as? [[String: Any]] ?? []).map { ($0["user"] as! String, $0) })
        #expect(byUser["bob"]?["readSeq"] as? Int == 2 && byUser["bob"]?["unread"] as? Int == 1, "\(list.body)")
        #expect(byUser["ann"]?["readSeq"] as? Int == 0 && byUser["ann"]?["unread"] as? Int == 0, "\(list.body)")

        // Bob's inbox: the room with its last message, his cursor and unread.
        try await eventually("bob's inbox has read 2") {
            try await Self.inbox(server, "bob")["team/core"]?["readSeq"] as? Int == 2
        }
        let entry = try await Self.inbox(server, "bob")["team/core"]!
        #expect(entry["lastSeq"] as? Int == 3 && entry["unread"] as? Int == 1, "\(entry)")
        let last = entry["last"] as? [String: Any]
        #expect(last?["seq"] as? Int == 3 && last?["user"] as? String == "ann" && last?["text"] as? String == "hello 3")

        // A direct room joins both inboxes, most recent first; the inbox socket streams changes.
        let inboxSocket = try await server.socket("/inbox/ws?user=bob")
        let inboxWelcome = try await inboxSocket.waitFor(1, "welcome")[0]
        #expect(inboxWelcome["unread"] as? Int == 1, "\(inboxWelcome)")
        let opened = try await server.http(.post, "/direct/dm?user=ann", body: #"{"with": "bob", "topic": "post-9"}"#)
        #expect(opened.status == 201, "\(opened.body)")
        let dmID = opened.json["id"] as! String
        let longText = String(repeating: "é", count: 150)  // 300 bytes: the inbox keeps 200
        let posted = try await server.http(
            .post, "/rooms/dm/\(dmID.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!)/messages?user=ann",
            body: #"{"text": "\#(longText)"}"#)
        #expect(posted.status == 201, "\(posted.body)")
        try await eventually("the inbox socket streams the direct message") {
            inboxSocket.frames(ofType: "inbox").contains {
                (($0["room"] as? [String: Any])?["last"] as? [String: Any])?["seq"] as? Int == 1
            }
        }
        let dmFrame = inboxSocket.frames(ofType: "inbox").last { ($0["room"] as? [String: Any])?["kind"] as? String == "dm" }
        let dmRoom = dmFrame?["room"] as? [String: Any]
        #expect(dmRoom?["unread"] as? Int == 1 && dmRoom?["id"] as? String == dmID)
        #expect(((dmRoom?["last"] as? [String: Any])?["text"] as? String)?.utf8.count == 200)
        let page = try await server.http(.get, "/inbox?user=bob&limit=1")
        let rooms = page.json["rooms"] as? [[String: Any]] ?? []
        #expect(rooms.count == 1 && rooms.first?["kind"] as? String == "dm", "most recent first: \(page.body)")
        let cursor = try #require(page.json["cursor"] as? String)
        let next = try await server.http(.get, "/inbox?user=bob&limit=1&cursor=\(cursor)")
        #expect((next.json["rooms"] as? [[String: Any]])?.first?["kind"] as? String == "team", "\(next.body)")
        #expect(next.json["cursor"] is NSNull, "\(next.body)")

        // A member removed leaves the inbox, told over its socket.
        #expect(try await server.http(.delete, "/rooms/team/core/members/bob?user=ann").status == 204)
        try await eventually("the removal reaches bob's inbox") {
            inboxSocket.frames(ofType: "inbox").contains { ($0["room"] as? [String: Any])?["removed"] as? Bool == true }
        }
        #expect(try await Self.inbox(server, "bob")["team/core"] == nil)
        for socket in [ann, annAgain, bob, inboxSocket] { _ = try await socket.close() }
    }

    @Test("bad reads and bad inbox requests get documented errors; inboxes are not rooms anyone reaches")
    func badInput() async throws {
        let server = try await Self.start()
        defer { Task { try? await server.stopAndRemove() } }
        let ann = try await server.socket("/rooms/chat/bad-reads/ws?user=ann")
        try await ann.waitFor(1, "welcome")
        ann.send(#"{"type": "send", "id": "m1", "text": "one"}"#)
        try await ann.waitFor(1, "ack")
        let bad = [
            #"{"type": "read", "id": "r1"}"#, #"{"type": "read", "id": "r2", "seq": -1}"#,
            #"{"type": "read", "id": "r3", "seq": 1.5}"#, #"{"type": "read", "id": "r4", "seq": 2}"#,
            #"{"type": "read", "id": "r5", "seq": "1"}"#, #"{"type": "read", "id": "r6", "seq": 99999999999999999999}"#,
        ]
        for frame in bad { ann.send(frame) }
        let errors = try await ann.waitFor(bad.count, "error")
        #expect(errors.map { $0["code"] as? String } == Array(repeating: "invalid_field", count: bad.count), "\(errors)")
        #expect(errors.map { $0["id"] as? String } == ["r1", "r2", "r3", "r4", "r5", "r6"])
        // The connection survives, and nothing moved.
        ann.send(#"{"type": "read", "seq": 1}"#)
        #expect(try await ann.waitFor(1, "receipt")[0]["seq"] as? Int == 1)
        #expect(try await server.http(.post, "/rooms/chat/bad-reads/receipts?user=ann", body: "{}").status == 405)
        #expect(try await server.http(.get, "/rooms/chat/bad-reads/receipts?user=ann&after=1").errorCode == "invalid_query")

        for path in ["/inbox?user=ann&limit=0", "/inbox?user=ann&limit=x", "/inbox?user=ann&cursor=%%%",
                     "/inbox?user=ann&cursor=bm90LWEtY3Vyc29y", "/inbox?user=ann&colour=red"] {
            let refused = try await server.http(.get, path)
            #expect(refused.status == 400 && refused.errorCode == "invalid_query", "\(path): \(refused.body)")
        }
        #expect(try await server.http(.get, "/inbox").errorCode == "invalid_user")
        let posted = try await server.http(.post, "/inbox?user=ann", body: "{}")
        #expect(posted.status == 405, "\(posted.status) \(posted.body)")
        // Inboxes are reached at /inbox only: /rooms/inbox/... is no kind at all.
        for path in ["/rooms/inbox/ann?user=ann", "/rooms/inbox/ann/rooms?user=ann", "/rooms/inbox/ann/update?user=ann"] {
            let refused = try await server.http(.get, path)
            #expect(refused.status == 404 && refused.errorCode == "unknown_kind", "\(path): \(refused.body)")
        }
        let upgrade = try await server.refusedUpgrade("/rooms/inbox/ann/ws?user=bob")
        #expect(upgrade.status == 404 && upgrade.errorCode == "unknown_kind")
        // Asking for an empty inbox creates nothing on disk.
        #expect(try await server.http(.get, "/inbox?user=nobody").json["rooms"] as? [Any] != nil)
        #expect(!server.dataFiles().contains { $0.hasPrefix("rooms/inbox/") }, "\(server.dataFiles())")
        // The inbox socket: a plain GET is told to upgrade; frames are refused, the socket stays.
        #expect(try await server.http(.get, "/inbox/ws?user=ann").status == 426)
        #expect(try await server.refusedUpgrade("/inbox/ws?user=ann&after=x").errorCode == "invalid_query")
        let inbox = try await server.socket("/inbox/ws?user=ann")
        try await inbox.waitFor(1, "welcome")
        inbox.send("garbage")
        inbox.send(#"{"type": "read", "seq": 1}"#)
        #expect(try await inbox.waitFor(2, "error").map { $0["code"] as? String } == ["unknown_type", "unknown_type"])
        inbox.send(#"{"type": "ping", "id": "p"}"#)
        #expect(try await inbox.waitFor(1, "pong")[0]["id"] as? String == "p")
        _ = try await inbox.close()
        _ = try await ann.close()
    }

    @Test("presence is per user: tabs join once; above presenceLimit the room counts, at most once a second")
    func presencePerUser() async throws {
        let server = try await Self.start(chat: ["presenceLimit": 2])
        defer { Task { try? await server.stopAndRemove() } }
        let path = "/rooms/chat/presence/ws?user="
        let watcher = try await server.socket(path + "ann")
        try await watcher.waitFor(1, "welcome")
        // Everyone hears of their own join too.
        let own = try await watcher.waitFor(1, "presence")[0]
        #expect(own["event"] as? String == "join" && own["user"] as? String == "ann" && own["users"] as? Int == 1)
        // Three tabs of bob: one join.
        var tabs: [TestSocket] = []
        for _ in 1...3 {
            let tab = try await server.socket(path + "bob")
            try await tab.waitFor(1, "welcome")
            tabs.append(tab)
        }
        let lastWelcome = tabs[2].frames(ofType: "welcome")[0]
        let present = lastWelcome["present"] as? [[String: Any]] ?? []
        #expect(present.map { "\($0["user"]!)=\($0["connections"]!)" } == ["ann=1", "bob=3"], "\(lastWelcome)")
        #expect(lastWelcome["online"] as? Int == 2)
        try await watcher.waitFor(2, "presence")
        try await Task.sleep(for: .milliseconds(200))
        let joins = Array(watcher.frames(ofType: "presence").dropFirst())
        #expect(joins.count == 1 && joins[0]["event"] as? String == "join" && joins[0]["user"] as? String == "bob", "\(joins)")
        #expect(joins[0]["users"] as? Int == 2)
        // Two tabs close: nothing; the last: one leave.
        _ = try await tabs[0].close()
        _ = try await tabs[1].close()
        try await Task.sleep(for: .milliseconds(200))
        #expect(watcher.frames(ofType: "presence").count == 2)
        _ = try await tabs[2].close()
        let leave = try await watcher.waitFor(3, "presence")[2]
        #expect(leave["event"] as? String == "leave" && leave["user"] as? String == "bob" && leave["users"] as? Int == 1)

        // Above the limit (2 users), joins become counts, at most one a second.
        var crowd: [TestSocket] = []
        let started = ContinuousClock.now
        for name in ["cat", "dan", "eve", "fay", "gus"] {
            let socket = try await server.socket(path + name)
            try await socket.waitFor(1, "welcome")
            crowd.append(socket)
        }
        let joining = ContinuousClock.now - started
        try await eventually("a count of 6 users") {
            watcher.frames(ofType: "presence").last.map { $0["event"] as? String == "count" && $0["users"] as? Int == 6 }
                ?? false
        }
        let afterLeave = Array(watcher.frames(ofType: "presence").dropFirst(3))
        #expect(afterLeave.first?["event"] as? String == "join", "cat is the 2nd user: a join")
        let counts = afterLeave.filter { $0["event"] as? String == "count" }
        // Four joins above the limit: one count at once, then at most one a second (and a last one).
        let allowed = 2 + Int(joining.components.seconds)
        #expect(counts.count <= allowed, "\(counts.count) counts in \(joining): \(afterLeave)")
        #expect(afterLeave.count == counts.count + 1, "\(afterLeave)")
        let crowdWelcome = crowd.last!.frames(ofType: "welcome")[0]
        #expect((crowdWelcome["present"] as? [Any])?.count == 2 && crowdWelcome["online"] as? Int == 6)
        // Back under the limit: one sync with who is there, then joins and leaves again.
        for socket in crowd.dropFirst() { _ = try await socket.close() }
        try await eventually("a sync") { watcher.frames(ofType: "presence").contains { $0["event"] as? String == "sync" } }
        let sync = watcher.frames(ofType: "presence").first { $0["event"] as? String == "sync" }!
        #expect(sync["users"] as? Int == 2, "\(sync)")
        #expect(Set((sync["present"] as? [[String: Any]] ?? []).map { $0["user"] as! String }) == ["ann", "cat"])
        _ = try await crowd[0].close()
        try await eventually("cat leaves") { watcher.frames(ofType: "presence").last?["event"] as? String == "leave" }
        #expect(watcher.frames(ofType: "presence").last?["user"] as? String == "cat")
        _ = try await watcher.close()
    }

    @Test("a kill -9 between a message's commit and its inbox delivery loses nothing: the restarted room delivers it")
    func inboxAcrossKill() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("rooms-inbox-\(UUID())")
        defer { try? FileManager.default.removeItem(at: directory) }
        // Inbox updates wait a minute after a change, so that only the room's durable schedule
        // delivers them: it fires 5 s after it is set, which leaves 5 s to kill the node between
        // the message's commit and its delivery (a shorter delay raced the kill on a loaded machine).
        let kinds = #"{"team": {"class": "chat", "access": "members", "inboxDelayMilliseconds": 60000}}"#
        var server = try await ServerProcess.start(kinds: kinds, dataDirectory: directory)
        let created = try await server.http(
            .post, "/rooms/team/k?user=ann", body: #"{"members": [{"user": "bob", "role": "member"}]}"#)
        #expect(created.status == 201)
        try await eventually("bob's inbox lists the room", timeout: .seconds(30)) {
            try await Self.inbox(server, "bob")["team/k"] != nil
        }
        #expect(try await server.http(.post, "/rooms/team/k/messages?user=ann", body: #"{"text": "after"}"#).status == 201)
        #expect(try await server.stop(signal: SIGKILL) == SIGKILL)

        // The message is committed with what its inboxes are owed, and was not delivered.
        let file = directory.appendingPathComponent("data").appendingPathComponent(
            StorageLayout.relativePath(of: try RoomAddress(kind: "team", id: "k")))
        var readOnly = Configuration()
        readOnly.readonly = true
        let owed = try await DatabaseQueue(path: file.path, configuration: readOnly).read { db in
            (try Int.fetchOne(db, sql: "SELECT count(*) FROM messages") ?? 0,
             try String.fetchAll(db, sql: "SELECT user FROM inbox_outbox ORDER BY user"))
        }
        // ("" is the row that stands for every member; rows of the creation's round may still be
        // there too, if the kill came before that round's deletes were committed.)
        #expect(owed.0 == 1 && owed.1.first == "" && Set(owed.1).isSubset(of: ["", "ann", "bob"]), "\(owed)")

        server = try await ServerProcess.start(kinds: kinds, dataDirectory: directory)
        // Nothing but the room's own durable schedule wakes it.
        try await eventually("bob's inbox has the message", timeout: .seconds(30)) {
            try await Self.inbox(server, "bob")["team/k"]?["lastSeq"] as? Int == 1
        }
        let entry = try await Self.inbox(server, "bob")["team/k"]!
        #expect(entry["unread"] as? Int == 1 && (entry["last"] as? [String: Any])?["text"] as? String == "after")
        #expect(try await server.stop() == 0)
    }
}
