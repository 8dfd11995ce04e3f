import Foundation
import NIOCore
@_spi(Node) import RoomRuntime
@_spi(Node) import RoomTesting
import TestSupport
import Testing

/// A room that tells each connection its role and one of its token's claims.
final class RoleRoom: Room {
    static let className = "roles"

    init(options: NoOptions) {}

    struct Hello: Encodable {
        let type = "hello"
        let role: String?
        let plan: String?
    }

    func onConnect(_ connection: RoomConnection, context: isolated RoomContext) async throws {
        context.send(
            try .json(
                Hello(
                    role: try context.role(of: connection.user)?.rawValue,
                    plan: connection.identity.claims["plan"]?.stringValue)),
            to: connection)
    }

    func onMessage(_ message: ClientMessage, from connection: RoomConnection, context: isolated RoomContext)
        async throws
    {
        _ = try context.nextSequence()
        context.send(.text(#"{"type":"ok"}"#), to: connection)
    }
}

@Suite("Membership in the runtime", .watched)
struct MembershipRuntimeTests {
    static func runtime() throws -> TestRuntime {
        try TestRuntime(kinds: [try RoomKind(name: "team", roomClass: RoomClass(RoleRoom.self), access: .members)])
    }

    @Test("a room class reads its members' roles and their claims; a reader's frames never reach it")
    func rolesAndClaims() async throws {
        let rooms = try Self.runtime()
        let address = try rooms.address("t1")
        let created = try await rooms.runtime.createRoom(
            at: address, body: ByteBuffer(string: #"{"members": [{"user": "cat", "role": "reader"}]}"#),
            identity: Identity(user: "ann", claims: ["plan": .string("pro")], isVerified: true))
        #expect(created.status == 201)
        let ann = try rooms.connect("t1", identity: Identity(user: "ann", claims: ["plan": .string("pro")], isVerified: true))
        let hello = try await ann.waitFor(1, ofType: "hello")[0]
        #expect(hello["role"] as? String == "owner" && hello["plan"] as? String == "pro")
        let cat = try rooms.connect("t1", user: "cat")
        #expect(try await cat.waitFor(1, ofType: "hello")[0]["role"] as? String == "reader")
        await cat.send(#"{"type": "anything", "id": "x"}"#)
        let refused = try await cat.waitFor(1, ofType: "error")[0]
        #expect(refused["code"] as? String == "read_only" && refused["id"] as? String == "x")
        #expect(try rooms.info("t1").lastSeq == 0, "the reader's frame reached the room")
        await ann.send("{}")
        _ = try await ann.waitFor(1, ofType: "ok")
        #expect(try rooms.info("t1").lastSeq == 1)
        await rooms.stopAndRemove()
    }

    @Test("a member removed between admission and connection is refused in the connect turn with 4403")
    func removedAfterAdmission() async throws {
        let rooms = try Self.runtime()
        let address = try rooms.address("t2")
        _ = try await rooms.runtime.createRoom(
            at: address, body: ByteBuffer(string: #"{"members": [{"user": "bob"}]}"#), identity: .named("ann"))
        try await rooms.runtime.admit(.named("bob"), to: address)
        let removed = try await rooms.request("t2", "DELETE", ["members", "bob"], identity: .named("ann"))
        #expect(removed.status == 204)
        let bob = try rooms.connect("t2", user: "bob")
        try await eventually("bob is refused") { bob.closeCode != nil }
        #expect(bob.closeCode == .forbidden)
        #expect(bob.frames(ofType: "error").first?["code"] as? String == "not_a_member")
        #expect(bob.frames(ofType: "hello").isEmpty, "the room's hook ran for a non-member")
        await rooms.stopAndRemove()
    }

    @Test("asking about a members room that does not exist creates nothing on disk")
    func admissionCreatesNothing() async throws {
        let rooms = try Self.runtime()
        for index in 0..<20 {
            await #expect(throws: RoomError.self) {
                try await rooms.runtime.admit(.named("ann"), to: try rooms.address("ghost-\(index)"))
            }
            let connection = try rooms.connect("ghost-\(index)", user: "ann")
            try await eventually("refused") { connection.closeCode != nil }
            #expect(connection.frames(ofType: "error").first?["code"] as? String == "room_not_found")
            await #expect(throws: RoomError.self) {
                try await rooms.request("ghost-\(index)", "GET", ["members"], identity: .named("ann"))
            }
        }
        #expect(rooms.files().filter { $0.hasSuffix(".sqlite") && $0.contains("rooms/") } == [], "\(rooms.files())")
        #expect(try rooms.runtime.listRooms(kind: nil, prefix: "", cursor: nil, limit: 100).rooms.isEmpty)
        await rooms.stopAndRemove()
    }
}
