import Foundation
import RoomTesting
import HTTPTypes
@_spi(Node) import RoomRuntime
import RoomServer
import TestSupport
import Testing

/// The room-class programming model over real sockets and HTTP: tags and attachments through
/// hibernation, sending to a tag, heartbeats, calls between rooms, and TTL expiry.
@Suite("Programming model end to end", .watched)
struct ProgrammingModelTests {
    static func server(idleTimeout: Duration = .seconds(30), ttl: Duration? = nil) async throws -> TestServer {
        try await TestServer.start { configuration in
            configuration.runtime.idleTimeout = idleTimeout
            configuration.runtime.kinds["probe"] = try! RoomKind(
                name: "probe", roomClass: RoomClass(ProbeRoom.self), ttl: ttl)
        }
    }

    @Test("tags and an attachment survive hibernation; a tagged send reaches only the tagged; pings are recorded")
    func tagsThroughHibernation() async throws {
        let server = try await Self.server(idleTimeout: .milliseconds(150))
        let ann = try await server.socket("/rooms/probe/t/ws?user=ann")
        let bob = try await server.socket("/rooms/probe/t/ws?user=bob")
        try await bob.waitFor(1, "welcome")
        ann.send(json: ["type": "tag", "tags": ["team-a", "admin"]])
        ann.send(json: ["type": "attach", "note": "ünïcödé note"])
        try await ann.waitFor(2, "done")
        try await eventually("the room hibernated") {
            try await server.http(.get, "/rooms/probe/t").json["active"] as? Bool == false
        }
        ann.send(#"{"type":"ping"}"#)
        try await ann.waitFor(1, "pong")
        ann.send(json: ["type": "whoami"])
        let me = try await ann.waitFor(1, "me")[0]
        #expect(me["tags"] as? [String] == ["admin", "team-a"])
        #expect(me["note"] as? String == "ünïcödé note")
        #expect((me["lastPingAt"] as? Int ?? 0) > 1_700_000_000_000)
        bob.send(json: ["type": "tell", "tag": "team-a", "text": "hi team"])
        #expect(try await ann.waitFor(1, "told")[0]["text"] as? String == "hi team")
        bob.send(json: ["type": "whoami"])
        let bobMe = try await bob.waitFor(1, "me")[0]
        #expect(bobMe["tags"] as? [String] == [])
        #expect(bob.frames(ofType: "told").isEmpty)
        try await ann.close()
        try await bob.close()
        try await server.stopAndRemove()
    }

    @Test("rooms call each other over HTTP: a call, a call back, and garbage")
    func calls() async throws {
        let server = try await Self.server(idleTimeout: .milliseconds(100))
        #expect(try await server.http(.get, "/rooms/probe/b/echo").status == 200)
        try await eventually("room b hibernated") {
            try await server.http(.get, "/rooms/probe/b").json["active"] as? Bool == false
        }
        let call = try await server.http(.get, "/rooms/probe/a/call/b")
        #expect(call.status == 200)
        #expect(Self.object(call.json["reply"] as? String) as? [String: String] == ["me": "b", "caller": "a"])
        // a asks b, which calls a back while a waits in its call: no deadlock.
        let ask = try await server.http(.get, "/rooms/probe/a/ask/b")
        #expect(ask.status == 200)
        let fromB = Self.object(ask.json["reply"] as? String)
        #expect(fromB["me"] as? String == "b")
        #expect(Self.object(fromB["reply"] as? String) as? [String: String] == ["me": "a", "caller": "b"])
        let garbage = try await server.http(.get, "/rooms/probe/a/call/%01")
        #expect(garbage.status == 400)
        #expect(garbage.errorCode == "invalid_room_id")
        try await server.stopAndRemove()
    }

    @Test("a kind's ttlSeconds deletes rooms nobody touched for that long, and only those")
    func ttl() async throws {
        let server = try await Self.server(idleTimeout: .milliseconds(100), ttl: .milliseconds(1500))
        #expect(try await server.http(.get, "/rooms/probe/old/echo").status == 200)
        let keeper = try await server.socket("/rooms/probe/kept/ws?user=ann")
        try await keeper.waitFor(1, "welcome")
        try await eventually("the untouched room expired") {
            try await server.http(.get, "/rooms/probe/old").json["exists"] as? Bool == false
        }
        let rooms = try await server.http(.get, "/rooms?kind=probe").json["rooms"] as? [[String: Any]] ?? []
        #expect(rooms.map { $0["id"] as? String } == ["kept"])
        #expect(try await server.http(.get, "/rooms/probe/kept").json["exists"] as? Bool == true)
        #expect(keeper.frames(ofType: "error").isEmpty)
        try await keeper.close()
        try await server.stopAndRemove()
    }

    /// `text` parsed as a JSON object (empty when it is not one).
    static func object(_ text: String?) -> [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data((text ?? "").utf8))) as? [String: Any] ?? [:]
    }
}
