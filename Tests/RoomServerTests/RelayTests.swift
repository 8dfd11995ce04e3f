import ChatRooms
import Foundation
import RoomTesting
import HTTPTypes
@_spi(Node) import RoomRuntime
import RoomServer
import TestSupport
import Testing

@Suite("Relay rooms", .watched)
struct RelayTests {
    @Test("every frame is relayed verbatim to every connection; nothing is stored or listed")
    func relay() async throws {
        let server = try await TestServer.start { configuration in
            configuration.runtime.kinds["relay"] = try! RoomKind(name: "relay", roomClass: RoomClass(RelayRoom.self))
        }
        let ann = try await server.socket("/rooms/relay/cursors/ws?user=ann")
        let bob = try await server.socket("/rooms/relay/cursors/ws?user=bob")
        try await ann.waitFor(1, "welcome")
        try await bob.waitFor(1, "welcome")
        let frames = [#"{"type":"cursor","x":1,"y":2}"#, #"{"type":"cursor", "x":3 ,"y":4,"extra":[1,2,3]}"#]
        for frame in frames { ann.send(frame) }
        try await bob.waitFor(2, "cursor")
        try await ann.waitFor(2, "cursor")
        let relayed = { (socket: TestSocket) in socket.received.filter { $0.contains(#""type":"cursor""#) } }
        #expect(relayed(bob) == frames, "byte for byte, in order")
        #expect(relayed(ann) == frames, "the sender included")
        // Text that is not JSON is relayed too; a ping is still the runtime's.
        bob.send("not json at all")
        try await eventually("the plain text relayed") { ann.received.contains("not json at all") }
        bob.send(#"{"type":"ping","id":"p"}"#)
        try await bob.waitFor(1, "pong")
        #expect(ann.frames(ofType: "pong").isEmpty)

        #expect(!server.dataFiles().contains { $0.hasPrefix("rooms/relay") })
        #expect((try await server.http(.get, "/rooms?kind=relay").json["rooms"] as? [Any])?.isEmpty == true)
        let info = try await server.http(.get, "/rooms/relay/cursors").json
        #expect(info["connections"] as? Int == 2)
        #expect(info["active"] as? Bool == true)
        try await ann.close()
        try await bob.close()
        try await server.stopAndRemove()
    }
}
