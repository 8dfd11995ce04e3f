import ChatRooms
import Foundation
import NIOCore
@_spi(Node) import RoomRuntime
@_spi(Node) import RoomTesting
import TestSupport
import Testing

/// The `inbox` class driven in process: who may write it, who may read it, and what garbage does.
@Suite("InboxRoom", .watched)
struct InboxRoomTests {
    static func rooms() throws -> TestRuntime {
        try TestRuntime(kinds: [
            try RoomKind(name: InboxRoom.kind, roomClass: RoomClass(InboxRoom.self)),
            try RoomKind(name: "team", roomClass: RoomClass(ChatRoom.self), access: .members),
        ])
    }

    /// `body` to bob's inbox as a call from `caller` (nil: not a room).
    static func update(_ rooms: TestRuntime, _ body: String, from caller: RoomAddress?) async throws(RoomError)
        -> RoomResponse
    {
        var request = RoomRequest(method: "POST", path: ["update"], body: ByteBuffer(string: body))
        request.caller = caller
        return try await rooms.runtime.request(request, to: try RoomAddress(kind: InboxRoom.kind, id: "bob"))
    }

    static func refusal(_ body: () async throws -> RoomResponse) async -> RoomError? {
        do {
            _ = try await body()
            return nil
        } catch {
            return error as? RoomError
        }
    }

    @Test("updates come from rooms only, each for itself; garbage is refused and writes nothing")
    func updates() async throws {
        let rooms = try Self.rooms()
        let team = try RoomAddress(kind: "team", id: "core")
        let entry = #"{"room": {"kind": "team", "id": "core", "lastSeq": 3, "readSeq": 1, "unread": 2, "updatedAt": 5}}"#
        let notARoom = await Self.refusal { try await Self.update(rooms, entry, from: nil) }
        #expect(notARoom?.code == .forbidden)
        for garbage in ["not json", "[]", #"{"room": {"kind": "team"}}"#, #"{"room": {"kind": "team", "id": "core", "lastSeq": "3", "readSeq": 1, "unread": 2, "updatedAt": 5}}"#] {
            let refused = await Self.refusal { try await Self.update(rooms, garbage, from: team) }
            #expect([.invalidJSON, .missingField, .invalidField].contains(refused?.code), "\(garbage): \(String(describing: refused))")
        }
        #expect(!rooms.files().contains { $0.hasPrefix("rooms/inbox/") }, "nothing was written: \(rooms.files())")

        // The caller is the room: an entry naming another room is stored under the caller's.
        let other = try RoomAddress(kind: "team", id: "other")
        #expect(try await Self.update(rooms, entry, from: other).status == 204)
        let bob = Identity.named("bob")
        let page = try await rooms.request("bob", kind: InboxRoom.kind, "GET", ["rooms"], identity: bob).json
        let listed = page["rooms"] as? [[String: Any]] ?? []
        #expect(listed.map { "\($0["kind"]!)/\($0["id"]!)" } == ["team/other"], "\(page)")
        #expect(try await Self.update(rooms, #"{"removed": true}"#, from: other).status == 204)
        let emptied = try await rooms.request("bob", kind: InboxRoom.kind, "GET", ["rooms"], identity: bob).json
        #expect((emptied["rooms"] as? [Any])?.isEmpty == true)
        await rooms.stopAndRemove()
    }

    @Test("an inbox is read by its owner only; it takes no frames")
    func ownerOnly() async throws {
        let rooms = try Self.rooms()
        let stranger = await Self.refusal {
            try await rooms.request("bob", kind: InboxRoom.kind, "GET", ["rooms"], identity: .named("eve"))
        }
        #expect(stranger?.code == .forbidden)
        let anonymous = await Self.refusal { try await rooms.request("bob", kind: InboxRoom.kind, "GET", ["rooms"]) }
        #expect(anonymous?.code == .forbidden)
        let other = try rooms.connect("bob", kind: InboxRoom.kind, user: "eve")
        try await other.waitFor(ofType: "error")
        let owner = try rooms.connect("bob", kind: InboxRoom.kind, user: "bob")
        let welcome = try await owner.waitFor(ofType: "welcome")[0]
        #expect(welcome["unread"] as? Int == 0)
        await owner.send(#"{"type": "send", "text": "hi"}"#)
        #expect(try await owner.waitFor(ofType: "error")[0]["code"] as? String == "unknown_type")
        await rooms.stopAndRemove()
    }
}
