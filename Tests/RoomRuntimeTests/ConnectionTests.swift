import Foundation
import RoomTesting
import TestSupport
import Testing

@_spi(Node) @testable import RoomRuntime

@Suite("Connections: tags, attachments, heartbeat", .watched)
struct ConnectionTests {
    private static func fixture(idleTimeout: Duration = .seconds(60)) throws -> RuntimeFixture {
        try RuntimeFixture(idleTimeout: idleTimeout, kind: "tags", roomClass: RoomClass(TagRoom.self))
    }

    /// Sends `command` and waits for the next frame of type `reply`.
    @discardableResult
    private func send(
        _ command: [String: Any], on handle: ConnectionHandle, to client: RecordingTransport, awaiting reply: String
    ) async throws -> [String: Any] {
        let before = client.objects(ofType: reply).count
        await handle.receive(.text(jsonText(command)))
        return try await client.waitFor(before + 1, ofType: reply)[before]
    }

    private func seat(_ value: Any?) -> TagRoom.Seat? {
        guard let object = value as? [String: Any], let seat = object["seat"] as? Int, let note = object["note"] as? String
        else { return nil }
        return TagRoom.Seat(seat: seat, note: note)
    }

    @Test("tags and attachments stay on connections while the room hibernates; send(toTagged:) reaches only the tagged")
    func tagsAndAttachmentsSurviveHibernation() async throws {
        let fixture = try Self.fixture(idleTimeout: .milliseconds(100))
        defer { fixture.directory.remove() }
        let id = uniqueID("labels")
        let address = try fixture.address(id)
        let (ann, annClient) = try fixture.connect(id, user: "ann")
        let (bob, bobClient) = try fixture.connect(id, user: "bob")
        let (cat, catClient) = try fixture.connect(id, user: "cat")
        try await send(["type": "tag", "tags": ["red", "admin"]], on: ann, to: annClient, awaiting: "tagged")
        try await send(
            ["type": "attach", "seat": 3, "note": "by the window ✓"], on: ann, to: annClient, awaiting: "attached")
        try await send(["type": "tag", "tags": ["blue"]], on: bob, to: bobClient, awaiting: "tagged")
        try await catClient.waitFor(1, ofType: "welcome")

        try await eventually("the room hibernated") { try !fixture.runtime.info(for: address).active }
        #expect(try fixture.runtime.info(for: address).connections == 3)
        let activations = TagRoom.starts.entries(for: id).count

        // The next event wakes the room; the labels are there.
        let red = try await send(["type": "who", "tag": "red"], on: cat, to: catClient, awaiting: "who")
        #expect(TagRoom.starts.entries(for: id).count == activations + 1)
        #expect(TagRoom.starts.entries(for: id).last == .rehydrated)
        #expect(red["users"] as? [String] == ["ann"])
        #expect(red["tags"] as? [[String]] == [["admin", "red"]])
        #expect(seat((red["seats"] as? [Any])?.first) == TagRoom.Seat(seat: 3, note: "by the window ✓"))
        let blue = try await send(["type": "who", "tag": "blue"], on: cat, to: catClient, awaiting: "who")
        #expect(blue["users"] as? [String] == ["bob"])
        #expect((blue["seats"] as? [Any])?.first is NSNull)
        let nobody = try await send(["type": "who", "tag": "green"], on: cat, to: catClient, awaiting: "who")
        #expect(nobody["users"] as? [String] == [])

        await bob.receive(.text(jsonText(["type": "shout", "tag": "red", "text": "for red"])))
        await bob.receive(.text(jsonText(["type": "shout", "tag": "admin", "text": "for admins"])))
        await cat.receive(.text(jsonText(["type": "mark", "text": "end"])))
        for client in [annClient, bobClient, catClient] { try await client.waitFor(1, ofType: "mark") }
        #expect(annClient.objects(ofType: "shout").map { $0["text"] as? String } == ["for red", "for admins"])
        #expect(bobClient.objects(ofType: "shout").isEmpty)
        #expect(catClient.objects(ofType: "shout").isEmpty)
        #expect([annClient, bobClient, catClient].allSatisfy { $0.objects(ofType: "error").isEmpty })
        await fixture.stop()
    }

    @Test("an attachment over 2048 bytes is refused with attachment_too_large, keeping the one before")
    func attachmentLimit() async throws {
        let fixture = try Self.fixture()
        defer { fixture.directory.remove() }
        let id = uniqueID("attach")
        let (handle, client) = try fixture.connect(id)
        try await send(["type": "tag", "tags": ["me"]], on: handle, to: client, awaiting: "tagged")
        try await send(["type": "attach", "seat": 1, "note": "kept"], on: handle, to: client, awaiting: "attached")

        let error = try await send(["type": "attach-bytes", "bytes": 2_049], on: handle, to: client, awaiting: "error")
        #expect(error["code"] as? String == "attachment_too_large")
        let who = try await send(["type": "who", "tag": "me"], on: handle, to: client, awaiting: "who")
        #expect(seat((who["seats"] as? [Any])?.first) == TagRoom.Seat(seat: 1, note: "kept"))

        // Exactly at the limit is fine; removing works.
        try await send(["type": "attach-bytes", "bytes": 2_048], on: handle, to: client, awaiting: "attached")
        try await send(["type": "detach"], on: handle, to: client, awaiting: "attached")
        let detached = try await send(["type": "who", "tag": "me"], on: handle, to: client, awaiting: "who")
        #expect((detached["seats"] as? [Any])?.first is NSNull)
        #expect(client.objects(ofType: "error").count == 1)
        #expect(client.closeCode == nil)
        await fixture.stop()
    }

    @Test("tags over the limits are refused with invalid_tags, keeping the ones before")
    func tagLimits() async throws {
        let fixture = try Self.fixture()
        defer { fixture.directory.remove() }
        let id = uniqueID("tags")
        let (handle, client) = try fixture.connect(id)
        try await send(["type": "tag", "tags": ["before"]], on: handle, to: client, awaiting: "tagged")
        let bad: [[String]] = [
            [""],
            ["ok", ""],
            [String(repeating: "a", count: 129)],
            [String(repeating: "é", count: 65)],  // 65 characters, 130 bytes
            (1...17).map { "t\($0)" },
        ]
        for tags in bad {
            let error = try await send(["type": "tag", "tags": tags], on: handle, to: client, awaiting: "error")
            #expect(error["code"] as? String == "invalid_tags")
        }
        let who = try await send(["type": "who", "tag": "before"], on: handle, to: client, awaiting: "who")
        #expect(who["tags"] as? [[String]] == [["before"]])

        // Sixteen tags of 128 bytes each are allowed.
        let most = (1...16).map { String(repeating: "é", count: 63) + String(format: "%02d", $0) }
        #expect(most.allSatisfy { $0.utf8.count == 128 })
        try await send(["type": "tag", "tags": most], on: handle, to: client, awaiting: "tagged")
        let tagged = try await send(["type": "who", "tag": most[15]], on: handle, to: client, awaiting: "who")
        #expect(tagged["tags"] as? [[String]] == [most.sorted()])
        let old = try await send(["type": "who", "tag": "before"], on: handle, to: client, awaiting: "who")
        #expect(old["users"] as? [String] == [])
        #expect(client.objects(ofType: "error").count == bad.count)
        await fixture.stop()
    }

    @Test("a ping is answered while the room is hibernated, without waking it; the room later sees lastPingAt")
    func pingDoesNotWakeTheRoom() async throws {
        let fixture = try Self.fixture(idleTimeout: .milliseconds(100))
        defer { fixture.directory.remove() }
        let id = uniqueID("ping")
        let address = try fixture.address(id)
        let (handle, client) = try fixture.connect(id)
        try await client.waitFor(1, ofType: "welcome")
        try await eventually("the room hibernated") { try !fixture.runtime.info(for: address).active }
        let activations = TagRoom.starts.entries(for: id).count

        let before = WallClock.millisecondsSince1970()
        await handle.receive(.text(#"{"type":"ping","id":"p1"}"#))
        await handle.receive(.text(#"{"type": "ping"}"#))
        let after = WallClock.millisecondsSince1970()
        let pongs = try await client.waitFor(2, ofType: "pong")
        #expect(pongs.map { $0["id"] as? String } == ["p1", nil])
        // Longer than a sweep of the runtime: nothing woke the room.
        try await Task.sleep(for: .milliseconds(150))
        #expect(try !fixture.runtime.info(for: address).active)
        #expect(TagRoom.starts.entries(for: id).count == activations)

        let last = try await send(["type": "lastPing"], on: handle, to: client, awaiting: "lastPing")
        let at = try #require(last["at"] as? Int)
        #expect((before...after).contains(Int64(at)))
        #expect(TagRoom.starts.entries(for: id).count == activations + 1)
        // A frame that only mentions "ping" is the room's, not a heartbeat.
        let who = try await send(["type": "who", "tag": "ping"], on: handle, to: client, awaiting: "who")
        #expect(who["users"] as? [String] == [])
        #expect(client.objects(ofType: "pong").count == 2)
        await fixture.stop()
    }
}
