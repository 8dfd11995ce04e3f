import ExampleRooms
import Foundation
import RoomRuntime
import RoomTesting
import TestSupport
import Testing

@Suite("GameRoom", .watched)
struct GameRoomTests {
    static func move(_ cell: Int) -> String { #"{"type": "move", "cell": \#(cell)}"# }

    @Test("two players join, illegal moves are refused, three in a row wins")
    func game() async throws {
        let rooms = try TestRuntime(GameRoom.self)
        let ann = try rooms.connect("g", user: "ann")
        let bob = try rooms.connect("g", user: "bob")
        await ann.send(#"{"type": "join"}"#)
        await bob.send(#"{"type": "join"}"#)
        try await ann.waitFor(3, ofType: "state")
        await bob.send(Self.move(0))
        #expect(try await bob.waitFor(ofType: "error")[0]["code"] as? String == "not_your_turn")
        await ann.send(Self.move(0))
        await bob.send(Self.move(0))
        #expect(try await bob.waitFor(2, ofType: "error")[1]["code"] as? String == "cell_taken")
        for (player, cell) in [(bob, 3), (ann, 1), (bob, 4), (ann, 2)] { await player.send(Self.move(cell)) }
        let last = try await ann.waitFor(8, ofType: "state").last ?? [:]
        #expect(last["status"] as? String == "won")
        #expect(last["winner"] as? String == "X")
        await bob.send(Self.move(8))
        #expect(try await bob.waitFor(3, ofType: "error")[2]["code"] as? String == "game_over")
        await rooms.stopAndRemove()
    }

    @Test("a player who lets the turn time out forfeits, by a durable schedule")
    func forfeit() async throws {
        let rooms = try TestRuntime(GameRoom.self, options: ["turnTimeoutSeconds": .number(0.3)])
        let ann = try rooms.connect("f", user: "ann")
        let bob = try rooms.connect("f", user: "bob")
        await ann.send(#"{"type": "join"}"#)
        await bob.send(#"{"type": "join"}"#)
        try await eventually("the forfeit") {
            ann.frames(ofType: "state").last?["status"] as? String == "forfeit"
        }
        #expect(ann.frames(ofType: "state").last?["winner"] as? String == "O")
        await rooms.stopAndRemove()
    }
}
