import Foundation
import RoomTesting
import NIOCore
import TestSupport
import Testing

@_spi(Node) @testable import RoomRuntime

@Suite("Lifecycle: activation, hibernation, rehydration", .watched)
struct LifecycleTests {
    @Test("an idle room hibernates with its socket open, and the next frame wakes it from its file")
    func hibernateAndRehydrate() async throws {
        // No warm databases: hibernation closes the file (WarmDatabaseTests covers the other way).
        let fixture = try RuntimeFixture(idleTimeout: .milliseconds(100), warmDatabases: 0)
        defer { fixture.directory.remove() }
        let (handle, client) = try fixture.connect("r1")
        let welcome = try await client.waitFor(1, ofType: "welcome")[0]
        #expect(welcome["lastSeq"] as? Int == 0)
        #expect(welcome["room"] as? String == "r1")
        await handle.receive(.text("note:hello"))
        try await client.waitFor(1, ofType: "note")

        let address = try fixture.address("r1")
        try await eventually("room hibernated") { try !fixture.runtime.info(for: address).active }
        let info = try fixture.runtime.info(for: address)
        #expect(info.connections == 1)
        #expect(info.lastSeq == 1)
        #expect(client.closeCode == nil)
        #expect(descriptors(under: fixture.directory.url.appendingPathComponent("rooms")).isEmpty)

        await handle.receive(.text("count"))
        let count = try await client.waitFor(1, ofType: "count")[0]
        #expect(count["notes"] as? Int == 1)
        #expect(count["starts"] as? [String] == ["created", "rehydrated"])
        #expect(count["lastSequence"] as? Int == 1)
        await fixture.stop()
    }

    @Test("a hibernated room with no connections wakes for a request, history intact")
    func wakeWithoutConnections() async throws {
        let fixture = try RuntimeFixture(idleTimeout: .milliseconds(50))
        defer { fixture.directory.remove() }
        let (handle, client) = try fixture.connect("quiet")
        await handle.receive(.text("note:one"))
        try await client.waitFor(1, ofType: "note")
        handle.disconnect()
        try await eventually("room dropped from memory") { fixture.runtime.activeRoomCount == 0 }
        let response = try await fixture.runtime.request(RoomRequest(method: "GET", path: []), to: fixture.address("quiet"))
        #expect(String(buffer: response.body) == #"["one"]"#)
        await fixture.stop()
    }

    @Test("a restart on the same data directory keeps rooms and their sequence")
    func restart() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        do {
            let fixture = try RuntimeFixture(directory: directory)
            let (handle, client) = try fixture.connect("kept")
            for index in 1...3 { await handle.receive(.text("note:\(index)")) }
            try await client.waitFor(3, ofType: "note")
            await fixture.stop()
        }
        let fixture = try RuntimeFixture(directory: directory)
        let address = try fixture.address("kept")
        #expect(try fixture.runtime.info(for: address) == RoomInfo(kind: "notes", id: "kept", active: false, connections: 0, lastSeq: 3, exists: true))
        let response = try await fixture.runtime.request(RoomRequest(method: "GET", path: []), to: address)
        #expect(String(buffer: response.body) == #"["1","2","3"]"#)
        let entry = try fixture.runtime.directory.entry(for: address)
        #expect(entry?.file == StorageLayout.relativePath(of: address))
        await fixture.stop()
    }

    @Test("the active-room cap hibernates the least recently used room")
    func activeRoomCap() async throws {
        let fixture = try RuntimeFixture(maxActiveRooms: 2)
        defer { fixture.directory.remove() }
        for id in ["a", "b", "c", "a", "d"] {
            let response = try await fixture.runtime.request(RoomRequest(method: "POST", path: []), to: fixture.address(id))
            #expect(response.status == 200)
            #expect(fixture.runtime.activeRoomCount <= 2)
        }
        try await eventually("the cap holds") { fixture.runtime.activeRoomCount <= 2 }
        #expect(try fixture.runtime.directory.count(kind: "notes") == 4)
        await fixture.stop()
    }

    @Test("asking about a room that was never created creates nothing")
    func infoCreatesNothing() async throws {
        let fixture = try RuntimeFixture()
        defer { fixture.directory.remove() }
        let info = try fixture.runtime.info(for: fixture.address("ghost"))
        #expect(info == RoomInfo(kind: "notes", id: "ghost", active: false, connections: 0, lastSeq: 0, exists: false))
        #expect(!fixture.directory.files().contains { $0.hasPrefix("rooms/") })
        await fixture.stop()
    }

    @Test("an unknown kind is refused")
    func unknownKind() throws {
        let fixture = try RuntimeFixture()
        defer { fixture.directory.remove() }
        let error = #expect(throws: RoomError.self) { try fixture.runtime.address(kind: "chat", id: "x") }
        #expect(error?.code == .unknownKind)
        #expect(error?.category == .notFound)
    }

    @Test("after shutdown, new connections and requests are refused with shutting_down")
    func refusedAfterShutdown() async throws {
        let fixture = try RuntimeFixture()
        defer { fixture.directory.remove() }
        await fixture.stop()
        let error = #expect(throws: RoomError.self) { try fixture.connect("late") }
        #expect(error?.code == .shuttingDown)
        await #expect(throws: RoomError.self) {
            try await fixture.runtime.request(RoomRequest(method: "GET", path: []), to: fixture.address("late"))
        }
    }
}

@Suite("Turns: the output gate and group commit", .watched)
struct TurnTests {
    @Test("a turn that throws after writing stores nothing and sends nothing but its error")
    func failedTurn() async throws {
        let fixture = try RuntimeFixture()
        defer { fixture.directory.remove() }
        let (handle, client) = try fixture.connect("gate")
        await handle.receive(.text("fail-after-write:lost"))
        await handle.receive(.text("count"))
        let count = try await client.waitFor(1, ofType: "count")[0]
        let errors = client.objects(ofType: "error")
        #expect(errors.count == 1)
        #expect(errors.first?["code"] as? String == "refused")
        #expect(errors.first?["id"] as? String == "f1")
        #expect(client.objects(ofType: "note").isEmpty)
        #expect(count["notes"] as? Int == 0)
        #expect(count["lastSequence"] as? Int == 0)
        await fixture.stop()
    }

    @Test("garbage gets an error frame and the connection keeps working")
    func garbage() async throws {
        let fixture = try RuntimeFixture()
        defer { fixture.directory.remove() }
        let (handle, client) = try fixture.connect("garbage")
        await handle.receive(.binary(ByteBuffer(bytes: [0, 1, 2])))
        await handle.receive(.text("no such command"))
        await handle.receive(.text("note:still fine"))
        try await client.waitFor(1, ofType: "note")
        #expect(client.objects(ofType: "error").map { $0["code"] as? String } == ["binary_unsupported", "unknown_type"])
        #expect(client.closeCode == nil)
        await fixture.stop()
    }

    @Test("a burst of messages is stored and delivered in order, every one acknowledged")
    func burst() async throws {
        let fixture = try RuntimeFixture()
        defer { fixture.directory.remove() }
        let (handle, client) = try fixture.connect("burst")
        let (_, listener) = try fixture.connect("burst", user: "bob")
        try await listener.waitFor(1, ofType: "welcome")
        for index in 1...500 { await handle.receive(.text("note:\(index)")) }
        let notes = try await listener.waitFor(500, ofType: "note")
        #expect(notes.map { $0["seq"] as? String } == (1...500).map { "\($0)" })
        #expect(notes.map { $0["text"] as? String } == (1...500).map { "\($0)" })
        #expect(try fixture.runtime.info(for: fixture.address("burst")).lastSeq == 500)
        _ = client
        await fixture.stop()
    }
}
