import Foundation
import NIOWebSocket
import WSCore
import HTTPTypes
@_spi(Node) import RoomRuntime
import RoomServer
import RoomTesting
import TestSupport
import Testing

/// Members rooms and direct rooms without authentication (`?user=` names the caller), as the
/// README's tour runs them.
@Suite("Members and direct rooms", .watched)
struct MembershipTests {
    static func start(dataDirectory: URL? = nil) async throws -> TestServer {
        try await TestServer.start(dataDirectory: dataDirectory) { configuration in
            let chat = configuration.runtime.kinds["chat"]!.roomClass
            configuration.runtime.kinds["team"] = try! RoomKind(name: "team", roomClass: chat, access: .members)
            configuration.runtime.kinds["dm"] = try! RoomKind(name: "dm", roomClass: chat, access: .direct)
        }
    }

    @Test("a members room: created by its owner, joined by members, read-only for readers, closed to others")
    func membersRoom() async throws {
        let server = try await Self.start()
        defer { Task { try? await server.stopAndRemove() } }
        // It does not exist until created: nothing is created by asking.
        let missing = try await server.refusedUpgrade("/rooms/team/core/ws?user=ann")
        #expect(missing.status == 404 && missing.errorCode == "room_not_found")
        #expect(try await server.http(.get, "/rooms/team/core/messages?user=ann").status == 404)
        #expect(try await server.http(.get, "/rooms/team/core?user=ann").status == 404)
        #expect(server.dataFiles().filter { $0.hasPrefix("rooms/") } == [])

        let created = try await server.http(
            .post, "/rooms/team/core?user=ann",
            body: #"{"members": [{"user": "bob", "role": "member"}, {"user": "cat", "role": "reader"}]}"#)
        #expect(created.status == 201, "\(created.body)")
        let members = created.json["members"] as? [[String: Any]]
        #expect(Set(members?.map { "\($0["user"]!)=\($0["role"]!)" } ?? []) == ["ann=owner", "bob=member", "cat=reader"])
        #expect(server.dataFiles().contains { $0.hasPrefix("rooms/team/") })
        let again = try await server.http(.post, "/rooms/team/core?user=bob", body: "{}")
        #expect(again.status == 409 && again.errorCode == "room_exists")

        let stranger = try await server.refusedUpgrade("/rooms/team/core/ws?user=dan")
        #expect(stranger.status == 403 && stranger.errorCode == "not_a_member")
        for path in ["/rooms/team/core?user=dan", "/rooms/team/core/messages?user=dan", "/rooms/team/core/members?user=dan"] {
            let refused = try await server.http(.get, path)
            #expect(refused.status == 403 && refused.errorCode == "not_a_member", "\(path)")
        }
        #expect(try await server.http(.get, "/rooms/team/core?user=cat").status == 200)
        // Without authentication a member names themselves to read history too.
        let history = try await server.http(.get, "/rooms/team/core/messages?after=0&user=cat")
        #expect(history.status == 200, "\(history.body)")

        let ann = try await server.socket("/rooms/team/core/ws?user=ann")
        let bob = try await server.socket("/rooms/team/core/ws?user=bob")
        let cat = try await server.socket("/rooms/team/core/ws?user=cat")
        for socket in [ann, bob, cat] { _ = try await socket.waitFor(1, "welcome") }
        bob.send(#"{"type": "send", "id": "b1", "text": "hello"}"#)
        #expect(try await bob.waitFor(1, "ack")[0]["id"] as? String == "b1")
        cat.send(#"{"type": "send", "id": "c1", "text": "me too"}"#)
        let readOnly = try await cat.waitFor(1, "error")[0]
        #expect(readOnly["code"] as? String == "read_only" && readOnly["id"] as? String == "c1")
        let post = try await server.http(.post, "/rooms/team/core/messages?user=cat", body: #"{"text": "sneaky"}"#)
        #expect(post.status == 403 && post.errorCode == "read_only")
        #expect(try await cat.waitFor(1, "message")[0]["text"] as? String == "hello")
        // A reader marks what they read, and only that.
        cat.send(#"{"type": "read", "seq": 1}"#)
        let receipt = try await bob.waitFor(1, "receipt")[0]
        #expect(receipt["user"] as? String == "cat" && receipt["seq"] as? Int == 1)
        cat.send(#"{"type": "typing", "id": "t1"}"#)
        #expect(try await cat.waitFor(2, "error")[1]["code"] as? String == "read_only")

        // Roles change; members are added; every change is told to the room.
        let promoted = try await server.http(.put, "/rooms/team/core/members/cat?user=ann", body: #"{"role": "member"}"#)
        #expect(promoted.status == 200, "\(promoted.body)")
        let roleFrame = try await bob.waitFor(1, "member")[0]
        #expect(roleFrame["event"] as? String == "role" && roleFrame["user"] as? String == "cat")
        cat.send(#"{"type": "send", "id": "c2", "text": "now I can"}"#)
        #expect(try await cat.waitFor(1, "ack")[0]["id"] as? String == "c2")
        let added = try await server.http(.put, "/rooms/team/core/members/dan?user=ann", body: #"{"role": "reader"}"#)
        #expect(added.status == 201)
        #expect(try await ann.waitFor(2, "member")[1]["event"] as? String == "added")
        let notOwner = try await server.http(.put, "/rooms/team/core/members/eve?user=bob", body: #"{"role": "member"}"#)
        #expect(notOwner.status == 403 && notOwner.errorCode == "forbidden")

        // A removed member's sockets are told and closed with 4403.
        let removed = try await server.http(.delete, "/rooms/team/core/members/bob?user=ann")
        #expect(removed.status == 204)
        let close = try await bob.closed()
        #expect(close?.closeCode == .init(codeNumber: 4403))
        #expect(bob.frames(ofType: "error").last?["code"] as? String == "not_a_member")
        let removal = try await ann.waitFor(3, "member")[2]
        #expect(removal["event"] as? String == "removed" && removal["user"] as? String == "bob")
        let back = try await server.refusedUpgrade("/rooms/team/core/ws?user=bob")
        #expect(back.status == 403)

        // The last owner cannot leave; a member can.
        let lastOwner = try await server.http(.delete, "/rooms/team/core/members/ann?user=ann")
        #expect(lastOwner.status == 409 && lastOwner.errorCode == "last_owner")
        #expect(try await server.http(.delete, "/rooms/team/core/members/cat?user=cat").status == 204)
        let listed = try await server.http(.get, "/rooms/team/core/members?user=ann").json["members"] as? [[String: Any]]
        #expect(listed?.map { $0["user"] as? String } == ["ann", "dan"] || listed?.map { $0["user"] as? String } == ["dan", "ann"])
        #expect(listed?.allSatisfy { $0["addedAt"] is Double || $0["addedAt"] is Int } == true)
        for socket in [ann, cat] { try await socket.close() }

        // Membership survives a restart (it is in the room's file).
        try await server.stop()
        let restarted = try await Self.start(dataDirectory: server.dataDirectory)
        defer { Task { try? await restarted.stopAndRemove() } }
        let after = try await restarted.http(.get, "/rooms/team/core/members/dan?user=ann")
        #expect(after.json["role"] as? String == "reader", "\(after.body)")
        #expect(try await restarted.refusedUpgrade("/rooms/team/core/ws?user=bob").status == 403)
    }

    @Test("bad input on the member routes gets a documented error and changes nothing")
    func badMemberInput() async throws {
        let server = try await Self.start()
        defer { Task { try? await server.stopAndRemove() } }
        #expect(try await server.http(.post, "/rooms/team/bad?user=ann", body: "{}").status == 201)
        let cases: [(HTTPRequest.Method, String, String?, Int, String)] = [
            (.put, "/rooms/team/bad/members/bob?user=ann", #"{"role": "admin"}"#, 400, "invalid_field"),
            (.put, "/rooms/team/bad/members/bob?user=ann", #"{"role": "member", "color": "red"}"#, 400, "invalid_field"),
            (.put, "/rooms/team/bad/members/bob?user=ann", #"{}"#, 400, "missing_field"),
            (.put, "/rooms/team/bad/members/bob?user=ann", "[1]", 400, "invalid_json"),
            (.put, "/rooms/team/bad/members/bob?user=ann", "{", 400, "invalid_json"),
            (.put, "/rooms/team/bad/members/\(String(repeating: "x", count: 129))?user=ann", #"{"role": "member"}"#, 400, "invalid_user"),
            (.put, "/rooms/team/bad/members/%07?user=ann", #"{"role": "member"}"#, 400, "invalid_user"),
            (.delete, "/rooms/team/bad/members/nobody?user=ann", nil, 404, "member_not_found"),
            (.post, "/rooms/team/bad/members?user=ann", "{}", 405, "method_not_allowed"),
            (.post, "/rooms/team/other?user=ann", #"{"members": [{"user": "bob", "role": "boss"}]}"#, 400, "invalid_field"),
            (.post, "/rooms/team/other?user=ann", #"{"members": [{"user": ""}]}"#, 400, "invalid_user"),
            (.post, "/rooms/team/other?user=ann", #"{"members": [{"user": "bob", "extra": 1}]}"#, 400, "invalid_field"),
            (.post, "/rooms/team/other?user=ann", #"{"members": "bob"}"#, 400, "invalid_field"),
            (.post, "/rooms/team/other?user=ann", #"{"owner": "ann"}"#, 400, "invalid_field"),
            (.post, "/rooms/team/other", "{}", 400, "invalid_user"),
            (.post, "/rooms/chat/other?user=ann", "{}", 405, "method_not_allowed"),
        ]
        for (method, path, body, status, code) in cases {
            let answer = try await server.http(method, path, body: body)
            #expect(answer.status == status && answer.errorCode == code, "\(method) \(path) \(body ?? ""): \(answer.body)")
        }
        // The member checked is the user the room posts for: a body naming another user is that user.
        let impersonated = try await server.http(
            .post, "/rooms/team/bad/messages?user=ann", body: #"{"user": "mallory", "text": "hi"}"#)
        #expect(impersonated.status == 403 && impersonated.errorCode == "not_a_member", "\(impersonated.body)")
        let members = try await server.http(.get, "/rooms/team/bad/members?user=ann").json["members"] as? [[String: Any]]
        #expect(members?.count == 1)
        #expect(!server.dataFiles().contains { $0.hasPrefix("rooms/chat/") })
        #expect(server.dataFiles().filter { $0.hasPrefix("rooms/team/") && $0.hasSuffix(".sqlite") }.count == 1)
    }

    @Test("a direct room: one per pair and topic, the same for both users, closed to anyone else")
    func directRoom() async throws {
        let server = try await Self.start()
        defer { Task { try? await server.stopAndRemove() } }
        let opened = try await server.http(.post, "/direct/dm?user=ann", body: #"{"with": "bob", "topic": "post-123"}"#)
        #expect(opened.status == 201, "\(opened.body)")
        let id = try #require(opened.json["id"] as? String)
        #expect(opened.json["kind"] as? String == "dm")
        let same = try await server.http(.post, "/direct/dm?user=bob", body: #"{"with": "ann", "topic": "post-123"}"#)
        #expect(same.status == 200 && same.json["id"] as? String == id)
        let otherTopic = try await server.http(.post, "/direct/dm?user=bob", body: #"{"with": "ann", "topic": "post-124"}"#)
        #expect(otherTopic.status == 201 && otherTopic.json["id"] as? String != id)
        let noTopic = try await server.http(.post, "/direct/dm?user=bob", body: #"{"with": "ann"}"#)
        #expect(noTopic.status == 201 && noTopic.json["id"] as? String != id)
        // Another pair on the same post gets its own room.
        let carol = try await server.http(.post, "/direct/dm?user=carol", body: #"{"with": "bob", "topic": "post-123"}"#)
        #expect(carol.status == 201 && carol.json["id"] as? String != id)

        let ann = try await server.socket("/rooms/dm/\(id)/ws?user=ann")
        _ = try await ann.waitFor(1, "welcome")
        let intruder = try await server.refusedUpgrade("/rooms/dm/\(id)/ws?user=carol")
        #expect(intruder.status == 403 && intruder.errorCode == "not_a_member")
        #expect(try await server.http(.get, "/rooms/dm/\(id)/messages?user=carol").status == 403)
        let join = try await server.http(.put, "/rooms/dm/\(id)/members/carol?user=ann", body: #"{"role": "member"}"#)
        #expect(join.status == 403 && join.errorCode == "forbidden")
        // A direct room is opened, never created by id.
        #expect(try await server.http(.post, "/rooms/dm/made-up?user=ann", body: "{}").status == 405)
        try await ann.close()

        for (body, code) in [
            (#"{"with": "ann"}"#, "invalid_field"), (#"{}"#, "missing_field"),
            (#"{"with": "bob", "topic": ""}"#, "invalid_field"),
            (#"{"with": "bob", "topic": "\#(String(repeating: "t", count: 129))"}"#, "invalid_field"),
            (#"{"with": "bob", "topic": 7}"#, "invalid_field"), (#"{"with": "bob", "extra": 1}"#, "invalid_field"),
            (#"{"with": "b\u0001b"}"#, "invalid_user"), ("nonsense", "invalid_json"),
        ] {
            let refused = try await server.http(.post, "/direct/dm?user=ann", body: body)
            #expect(refused.status == 400 && refused.errorCode == code, "\(body): \(refused.body)")
        }
        #expect(try await server.http(.post, "/direct/team?user=ann", body: #"{"with": "bob"}"#).status == 405)
        #expect(try await server.http(.post, "/direct/nope?user=ann", body: #"{"with": "bob"}"#).status == 404)
    }
}
