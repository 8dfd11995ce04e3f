import ExampleRooms
import Foundation
import RoomRuntime
import RoomTesting
import TestSupport
import Testing

@Suite("CounterRoom", .watched)
struct CounterRoomTests {
    @Test("increments are broadcast, snapshotted and replayed: a restarted node has the same value")
    func countsAcrossRestarts() async throws {
        var rooms = try TestRuntime(CounterRoom.self)
        let ann = try rooms.connect("c", user: "ann")
        try await ann.waitFor(ofType: "count")
        for by in [1, 5, -2] { await ann.send(#"{"type": "increment", "by": \#(by)}"#) }
        let counts = try await ann.waitFor(4, ofType: "count")
        #expect(counts.last?["value"] as? Int == 4)
        #expect(counts.last?["user"] as? String == "ann")
        rooms = try await rooms.restart()
        let state = try await rooms.request("c", "GET", ["state"]).json
        #expect(state["value"] as? Int == 4)
        #expect(state["seq"] as? Int == 3)
        #expect(state["snapshotSeq"] as? Int == 3, "the graceful stop took a snapshot")
        await rooms.stopAndRemove()
    }

    @Test("a reset schedule fires and zeroes the count; bad input is refused", arguments: [
        (#"{"type": "increment", "by": 2000000}"#, "invalid_field"),
        (#"{"type": "reset", "afterSeconds": -1}"#, "invalid_field"),
        (#"{"type": "decrement"}"#, "unknown_type"),
    ])
    func resetAndRefusals(bad: String, code: String) async throws {
        let rooms = try TestRuntime(CounterRoom.self)
        let ann = try rooms.connect("r", user: "ann")
        await ann.send(bad)
        #expect(try await ann.waitFor(ofType: "error")[0]["code"] as? String == code)
        await ann.send(#"{"type": "increment", "by": 3}"#)
        await ann.send(#"{"type": "reset", "afterSeconds": 0.2}"#)
        try await ann.waitFor(ofType: "reset-scheduled")
        let counts = try await ann.waitFor(3, ofType: "count")
        #expect(counts.last?["value"] as? Int == 0)
        await rooms.stopAndRemove()
    }
}
