import ExampleRooms
import Foundation
import RoomTesting
import HTTPTypes
@_spi(Node) import RoomRuntime
import RoomServer
import TestSupport
import Testing

@Suite("Example rooms: counter and game", .watched)
struct ExampleRoomTests {
    /// A server running the example kinds, with short timers.
    static func server(turnTimeout: Double = 60, idleTimeout: Duration = .seconds(30)) async throws -> TestServer {
        try await TestServer.start { configuration in
            configuration.runtime.idleTimeout = idleTimeout
            configuration.runtime.kinds["counter"] = try! RoomKind(name: "counter", roomClass: RoomClass(CounterRoom.self))
            configuration.runtime.kinds["game"] = try! RoomKind(
                name: "game", roomClass: RoomClass(GameRoom.self), options: ["turnTimeoutSeconds": .number(turnTimeout)])
        }
    }

    @Test("counter: increments are broadcast, a scheduled reset fires, state survives hibernation")
    func counter() async throws {
        let server = try await Self.server(idleTimeout: .milliseconds(150))
        let ann = try await server.socket("/rooms/counter/c/ws?user=ann")
        let bob = try await server.socket("/rooms/counter/c/ws?user=bob")
        #expect(try await bob.waitFor(1, "count")[0]["value"] as? Int == 0)
        ann.send(json: ["type": "increment"])
        ann.send(json: ["type": "increment", "by": 41])
        let counts = try await bob.waitFor(3, "count")
        #expect(counts.map { $0["value"] as? Int } == [0, 1, 42])
        #expect(counts.last?["user"] as? String == "ann")

        try await eventually("the counter hibernated") {
            try await server.http(.get, "/rooms/counter/c").json["active"] as? Bool == false
        }
        let state = try await server.http(.get, "/rooms/counter/c/state").json
        #expect(state["value"] as? Int == 42)
        #expect(state["snapshotSeq"] as? Int == 2, "hibernation takes a snapshot")

        ann.send(json: ["type": "reset", "afterSeconds": 0.3])
        let scheduled = try await ann.waitFor(1, "reset-scheduled")[0]
        #expect(scheduled["at"] is Int)
        let afterReset = try await bob.waitFor(4, "count")
        #expect(afterReset.last?["value"] as? Int == 0)
        #expect(afterReset.last?["user"] == nil)
        #expect(try await server.http(.get, "/rooms/counter/c/state").json["resetAt"] == nil)
        try await server.stopAndRemove()
    }

    @Test(
        "counter: bad frames are error frames and change nothing",
        arguments: [
            (#"{"type":"increment","by":"two"}"#, "invalid_field"),
            (#"{"type":"increment","by":2000000}"#, "invalid_field"),
            (#"{"type":"increment","by":1.5}"#, "invalid_field"),
            (#"{"type":"reset","afterSeconds":-1}"#, "invalid_field"),
            (#"{"type":"reset"}"#, "invalid_field"),
            (#"{"type":"decrement"}"#, "unknown_type"),
            (#"{"by":1}"#, "missing_field"),
            ("not json", "invalid_json"),
        ])
    func counterGarbage(frame: String, code: String) async throws {
        let server = try await Self.server()
        let ann = try await server.socket("/rooms/counter/g/ws?user=ann")
        try await ann.waitFor(1, "count")
        ann.send(frame)
        #expect(try await ann.waitFor(1, "error")[0]["code"] as? String == code)
        ann.send(json: ["type": "increment"])
        #expect(try await ann.waitFor(2, "count")[1]["value"] as? Int == 1)
        #expect(try await server.http(.post, "/rooms/counter/g/state", body: "{}").status == 405)
        #expect(try await server.http(.get, "/rooms/counter/g/nothing").status == 404)
        try await server.stopAndRemove()
    }

    @Test("game: players join, the server validates every move, a win ends the game, spectators see it all")
    func game() async throws {
        let server = try await Self.server()
        let ann = try await server.socket("/rooms/game/t/ws?user=ann")
        let bob = try await server.socket("/rooms/game/t/ws?user=bob")
        let eve = try await server.socket("/rooms/game/t/ws?user=eve")
        try await eve.waitFor(1, "state")

        ann.send(json: ["type": "move", "cell": 0])
        #expect(try await ann.waitFor(1, "error")[0]["code"] as? String == "not_a_player")
        ann.send(json: ["type": "join"])
        try await eve.waitFor(2, "state")
        ann.send(json: ["type": "move", "cell": 0])
        #expect(try await ann.waitFor(2, "error")[1]["code"] as? String == "game_not_started")
        bob.send(json: ["type": "join"])
        let started = try await eve.waitFor(3, "state")[2]
        #expect(started["status"] as? String == "playing")
        #expect(started["players"] as? [String: String] == ["X": "ann", "O": "bob"])
        #expect(started["turnDeadline"] is Int)
        eve.send(json: ["type": "join"])
        #expect(try await eve.waitFor(1, "error")[0]["code"] as? String == "game_full")

        bob.send(json: ["type": "move", "cell": 4])
        #expect(try await bob.waitFor(1, "error")[0]["code"] as? String == "not_your_turn")
        // X: 0, 1, 2 wins; O: 4, 5.
        for (player, cell) in [(ann, 0), (bob, 4), (ann, 1)] {
            player.send(json: ["type": "move", "cell": cell])
            _ = try await eve.waitFor(eve.frames(ofType: "state").count + 1, "state")
        }
        bob.send(json: ["type": "move", "cell": 0])
        #expect(try await bob.waitFor(2, "error")[1]["code"] as? String == "cell_taken")
        bob.send(json: ["type": "move", "cell": 9])
        #expect(try await bob.waitFor(3, "error")[2]["code"] as? String == "invalid_move")
        bob.send(json: ["type": "move"])
        #expect(try await bob.waitFor(4, "error")[3]["code"] as? String == "invalid_move")
        bob.send(json: ["type": "new-game"])
        #expect(try await bob.waitFor(5, "error")[4]["code"] as? String == "game_in_progress")
        bob.send(json: ["type": "move", "cell": 5])
        _ = try await eve.waitFor(7, "state")
        ann.send(json: ["type": "move", "cell": 2])
        let won = try await eve.waitFor(8, "state")[7]
        #expect(won["status"] as? String == "won")
        #expect(won["winner"] as? String == "X")
        #expect(won["board"] as? [String] == ["X", "X", "X", "", "O", "O", "", "", ""])
        #expect(won["turnDeadline"] == nil)
        bob.send(json: ["type": "move", "cell": 8])
        #expect(try await bob.waitFor(6, "error")[5]["code"] as? String == "game_over")

        bob.send(json: ["type": "new-game"])
        let fresh = try await eve.waitFor(9, "state")[8]
        #expect(fresh["game"] as? Int == 2)
        #expect(fresh["status"] as? String == "playing")
        #expect(fresh["board"] as? [String] == Array(repeating: "", count: 9))
        // Everyone saw the same states.
        let annStates = try await ann.waitFor(9, "state").suffix(7).map { $0["seq"] as? Int }
        #expect(annStates == eve.frames(ofType: "state").suffix(7).map { $0["seq"] as? Int })
        try await server.stopAndRemove()
    }

    @Test("game: a player who lets the turn time out forfeits, through hibernation, by a durable schedule")
    func forfeit() async throws {
        // 4 s: a loaded machine takes a while to see the room hibernate, and the forfeit must not come first.
        let server = try await Self.server(turnTimeout: 4, idleTimeout: .milliseconds(100))
        let ann = try await server.socket("/rooms/game/f/ws?user=ann")
        let bob = try await server.socket("/rooms/game/f/ws?user=bob")
        try await bob.waitFor(1, "state")
        ann.send(json: ["type": "join"])
        try await bob.waitFor(2, "state")
        bob.send(json: ["type": "join"])
        try await ann.waitFor(3, "state")
        ann.send(json: ["type": "move", "cell": 4])
        let afterMove = try await bob.waitFor(4, "state")[3]
        #expect(afterMove["turn"] as? String == "O")
        try await eventually("the game room hibernated") {
            try await server.http(.get, "/rooms/game/f").json["active"] as? Bool == false
        }
        #expect(bob.frames(ofType: "state").count == 4, "the deadline had not passed yet")
        let forfeited = try await bob.waitFor(5, "state", timeout: .seconds(20))[4]
        #expect(forfeited["status"] as? String == "forfeit")
        #expect(forfeited["winner"] as? String == "X")
        #expect(forfeited["board"] as? [String] == ["", "", "", "", "X", "", "", "", ""])
        // The room slept between the move and the deadline: the schedule woke it, and its state
        // came back from the snapshot taken at hibernation.
        let info = try await server.http(.get, "/rooms/game/f/state").json
        #expect(info["status"] as? String == "forfeit")
        try await server.stopAndRemove()
    }
}
