import Foundation
import RoomTesting
import TestSupport
import Testing

@_spi(Node) @testable import RoomRuntime

@Suite("Listing and expiry", .watched)
struct ExpiryTests {
    /// Whether anything of the room is left on disk: its file (and SQLite's side files) or its
    /// directory row.
    private func leftovers(of address: RoomAddress, in fixture: RuntimeFixture) throws -> [String] {
        let file = fixture.runtime.layout.file(of: address).path
        var found = ["", "-wal", "-shm", "-journal"].map { file + $0 }.filter { FileManager.default.fileExists(atPath: $0) }
        if try fixture.runtime.directory.entry(for: address) != nil { found.append("directory row") }
        return found
    }

    private func pages(
        _ runtime: RoomRuntime, kind: String?, prefix: String = "", limit: Int
    ) throws -> [[RoomPage.Entry]] {
        var pages: [[RoomPage.Entry]] = []
        var cursor: String?
        repeat {
            let page = try runtime.listRooms(kind: kind, prefix: prefix, cursor: cursor, limit: limit)
            pages.append(page.rooms)
            cursor = page.cursor
            guard pages.count < 100 else { break }
        } while cursor != nil
        return pages
    }

    @Test("listing pages by limit and cursor covers every room exactly once; prefixes filter by id")
    func listing() async throws {
        let fixture = try RuntimeFixture(
            extraKinds: [try RoomKind(name: "other", roomClass: RoomClass(NotesRoom.self))])
        defer { fixture.directory.remove() }
        let notes = ["a-1", "a-2", "a-3", "ab", "a_x", "b-1", "b-2", "é-1", "a\u{10FFFF}"]
        let others = ["a-1", "z"]
        for id in notes { _ = try await fixture.request(id, "POST", [], body: "n") }
        for id in others {
            _ = try await fixture.runtime.request(
                RoomRequest(method: "POST", path: []), to: fixture.runtime.address(kind: "other", id: id))
        }
        let all = (notes.map { "notes/\($0)" } + others.map { "other/\($0)" }).sorted { lhs, rhs in
            // (kind, id) in SQLite's order: bytewise.
            Array(lhs.utf8).lexicographicallyPrecedes(Array(rhs.utf8))
        }

        for limit in [1, 2, 3, 11, 100] {
            let pages = try pages(fixture.runtime, kind: nil, limit: limit)
            #expect(pages.flatMap { $0 }.map { "\($0.kind)/\($0.id)" } == all, "limit \(limit)")
            #expect(pages.allSatisfy { $0.count <= limit })
            #expect(pages.dropLast().allSatisfy { $0.count == limit })
            #expect(pages.count == (all.count + limit - 1) / limit, "no empty last page with limit \(limit)")
        }
        let ids = { (kind: String?, prefix: String) in
            try pages(fixture.runtime, kind: kind, prefix: prefix, limit: 2).flatMap { $0 }.map { "\($0.kind)/\($0.id)" }
        }
        #expect(try ids("notes", "a-") == ["notes/a-1", "notes/a-2", "notes/a-3"])
        #expect(try ids(nil, "a-") == ["notes/a-1", "notes/a-2", "notes/a-3", "other/a-1"])
        #expect(try ids("notes", "a_") == ["notes/a_x"], "'_' is not a wildcard")
        #expect(try ids("notes", "é") == ["notes/é-1"])
        #expect(try ids("notes", "a").count == 6)
        #expect(try ids("notes", "a").contains("notes/a\u{10FFFF}"))
        #expect(try ids("notes", "zzz").isEmpty)

        // A cursor keeps working after the room it names is deleted.
        let first = try fixture.runtime.listRooms(kind: "notes", limit: 2)
        let last = try #require(first.rooms.last)
        #expect(try await fixture.runtime.delete(fixture.address(last.id)))
        let next = try fixture.runtime.listRooms(kind: "notes", cursor: first.cursor, limit: 2)
        #expect(next.rooms.map(\.id) == Array(all.filter { $0.hasPrefix("notes/") }.map { String($0.dropFirst(6)) }[2..<4]))
        await fixture.stop()
    }

    @Test("a garbage cursor, a bad limit or an unknown kind is a RoomError")
    func listingRefusesGarbage() async throws {
        let fixture = try RuntimeFixture()
        defer { fixture.directory.remove() }
        _ = try await fixture.request("r", "POST", [], body: "n")
        let base64 = { (text: String) in Data(text.utf8).base64EncodedString() }
        for cursor in ["garbage!!", "", base64("notes"), base64("notes\u{0}"), base64("BAD KIND\u{0}x"), "%%%"] {
            let error = #expect(throws: RoomError.self, "cursor \(cursor)") {
                try fixture.runtime.listRooms(kind: nil, cursor: cursor)
            }
            #expect(error?.code == .invalidQuery)
            #expect(error?.category == .badRequest)
        }
        for limit in [0, -1, RoomRuntime.maxListLimit + 1] {
            let error = #expect(throws: RoomError.self) { try fixture.runtime.listRooms(kind: nil, limit: limit) }
            #expect(error?.code == .invalidQuery)
        }
        let error = #expect(throws: RoomError.self) { try fixture.runtime.listRooms(kind: "chat") }
        #expect(error?.code == .unknownKind)
        #expect(try fixture.runtime.listRooms(kind: nil, limit: RoomRuntime.maxListLimit).rooms.map(\.id) == ["r"])
        await fixture.stop()
    }

    @Test("a room untouched for its kind's TTL is deleted; one in use, with a connection, or of a kind without TTL is kept")
    func ttlExpiry() async throws {
        let ttl = Duration.milliseconds(300)
        let fixture = try RuntimeFixture(
            idleTimeout: .milliseconds(100), kind: "temp", ttl: ttl,
            extraKinds: [try RoomKind(name: "notes", roomClass: RoomClass(NotesRoom.self))])
        defer { fixture.directory.remove() }
        let old = try fixture.address("old")
        let busy = try fixture.address("busy")
        let held = try fixture.address("held")
        let forever = try fixture.runtime.address(kind: "notes", id: "forever")

        _ = try await fixture.runtime.request(RoomRequest(method: "POST", path: []), to: forever)
        let (heldHandle, heldClient) = try fixture.connect("held")
        await heldHandle.receive(.text("note:kept"))
        try await heldClient.waitFor(1, ofType: "note")
        _ = try await fixture.request("old", "POST", [], body: "n")
        let lastTouched = ContinuousClock.now
        #expect(try leftovers(of: old, in: fixture).count >= 2)

        // Keep "busy" in use until "old" is gone. A use touches the room somewhere between its
        // request's start and its answer, so the longest span from one request's start to the
        // next one's answer bounds how long "busy" went untouched.
        var longestPause = Duration.zero
        var previousStart = ContinuousClock.now
        func use() async throws {
            let start = ContinuousClock.now
            _ = try await fixture.request("busy", "POST", [], body: "n")
            longestPause = max(longestPause, ContinuousClock.now - previousStart)
            previousStart = start
        }
        let deadline = ContinuousClock.now + .seconds(10)
        while try fixture.runtime.info(for: old).exists || !leftovers(of: old, in: fixture).isEmpty {
            guard ContinuousClock.now < deadline else { throw TimedOut(description: "the old room was never deleted") }
            try await use()
            try await Task.sleep(for: .milliseconds(30))
        }
        #expect(ContinuousClock.now - lastTouched >= ttl, "deleted before its TTL was up")
        #expect(try leftovers(of: old, in: fixture) == [])
        #expect(try !fixture.runtime.listRooms(kind: "temp").rooms.contains { $0.id == "old" })

        // Twice the TTL more, "busy" still in use.
        let more = ContinuousClock.now + ttl * 2
        while ContinuousClock.now < more {
            try await use()
            try await Task.sleep(for: .milliseconds(30))
        }
        // Only a stalled machine leaves "busy" untouched for its TTL (then expiring it is right).
        if longestPause < ttl {
            #expect(try fixture.runtime.info(for: busy).exists, "a room in use was deleted")
        }
        for address in [held, forever] {
            #expect(try fixture.runtime.info(for: address).exists, "\(address) was deleted")
            #expect(try fixture.runtime.directory.entry(for: address) != nil)
        }
        #expect(heldClient.closeCode == nil)

        // Once its last connection is gone, the held room expires too.
        heldHandle.disconnect()
        // The file goes first, then the directory row: wait for both.
        try await eventually("the held room expired") {
            try !fixture.runtime.info(for: held).exists && leftovers(of: held, in: fixture).isEmpty
        }
        #expect(try fixture.runtime.info(for: forever).exists)
        await fixture.stop()
    }

    @Test("delete closes the room's connections with 4404, removes its file and row; a second delete finds nothing")
    func delete() async throws {
        let fixture = try RuntimeFixture(idleTimeout: .milliseconds(100))
        defer { fixture.directory.remove() }
        // One room live, one hibernated with its socket open.
        let live = try fixture.address("live")
        let sleeping = try fixture.address("sleeping")
        let (liveHandle, liveClient) = try fixture.connect("live")
        await liveHandle.receive(.text("note:one"))
        try await liveClient.waitFor(1, ofType: "note")
        let (sleepingHandle, sleepingClient) = try fixture.connect("sleeping")
        await sleepingHandle.receive(.text("note:two"))
        try await sleepingClient.waitFor(1, ofType: "note")
        try await eventually("a room hibernated") { try !fixture.runtime.info(for: sleeping).active }
        await liveHandle.receive(.text("note:three"))
        try await liveClient.waitFor(2, ofType: "note")

        for (address, client) in [(live, liveClient), (sleeping, sleepingClient)] {
            #expect(try await fixture.runtime.delete(address))
            #expect(client.closeCode == .roomDeleted)
            #expect(client.objects(ofType: "error").last?["code"] as? String == "room_deleted")
            #expect(try leftovers(of: address, in: fixture) == [])
            #expect(try fixture.runtime.info(for: address) == RoomInfo(
                kind: "notes", id: address.id, active: false, connections: 0, lastSeq: 0, exists: false))
            #expect(try await !fixture.runtime.delete(address), "a second delete finds nothing")
        }
        #expect(try await !fixture.runtime.delete(fixture.address("never")))
        #expect(try fixture.runtime.info(for: fixture.address("never")).exists == false)
        #expect(fixture.runtime.activeRoomCount == 0)

        // The address is free: the next event creates the room afresh.
        let (_, again) = try fixture.connect("live")
        #expect(try await again.waitFor(1, ofType: "welcome")[0]["lastSeq"] as? Int == 0)
        #expect(try await fixture.request("live", "GET", []) == "[]")
        await fixture.stop()
    }

    @Test("asking about a room while it is being deleted answers, never fails")
    func infoDuringDelete() async throws {
        let fixture = try RuntimeFixture(idleTimeout: .milliseconds(20))
        defer { fixture.directory.remove() }
        for round in 0..<12 {
            let id = "r\(round)"
            let address = try fixture.address(id)
            _ = try await fixture.request(id, "POST", [], body: "n")
            // Out of memory: `info` reads the file, which the deletion removes meanwhile.
            try await eventually("the room left memory") { fixture.runtime.activeRoomCount == 0 }
            let deleting = Task { try await fixture.runtime.delete(address) }
            // Ask until the room is gone (not in a tight loop: other tests share the threads).
            for _ in 0..<200 {
                guard try fixture.runtime.info(for: address).exists else { break }
                await Task.yield()
            }
            #expect(try await deleting.value)
            #expect(try !fixture.runtime.info(for: address).exists)
        }
        await fixture.stop()
    }

    @Test("a room with a pending schedule does not expire, however long it is untouched")
    func pendingScheduleKeepsRoom() async throws {
        let ttl = Duration.milliseconds(200)
        let fixture = try RuntimeFixture(
            idleTimeout: .milliseconds(50), kind: "schedules", roomClass: RoomClass(ScheduleRoom.self), ttl: ttl)
        defer { fixture.directory.remove() }
        let waiting = try fixture.address("waiting")
        let plain = try fixture.address("plain")
        _ = try await fixture.request(
            "waiting", "POST", [], body: #"{"type":"schedule","name":"later","afterMs":600000,"text":"hello"}"#)
        _ = try await fixture.request(
            "plain", "POST", [], body: #"{"type":"schedule","name":"soon","afterMs":600000,"text":"x"}"#)
        _ = try await fixture.request("plain", "POST", [], body: #"{"type":"cancel","name":"soon"}"#)

        // The room without a schedule expires; the one with a pending schedule stays, file and all.
        try await eventually("the room without a schedule expired") { try !fixture.runtime.info(for: plain).exists }
        try await Task.sleep(for: ttl * 3)
        #expect(try fixture.runtime.info(for: waiting).exists, "a room with a pending schedule was deleted")
        #expect(FileManager.default.fileExists(atPath: fixture.runtime.layout.file(of: waiting).path))
        let listing = jsonObject(
            try await fixture.request("waiting", "POST", [], body: #"{"type":"list"}"#))
        #expect(listing["names"] as? [String] == ["later"])
        await fixture.stop()
    }
}
