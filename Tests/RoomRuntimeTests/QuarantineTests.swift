import Foundation
import GRDB
import RoomTesting
import Logging
import NIOCore
import TestSupport
import Testing

@_spi(Node) @testable import RoomRuntime

@Suite("Broken room files", .watched)
struct QuarantineTests {
    @Test("a room file that cannot be opened is quarantined: requests fail fast, the path is logged once, other rooms work")
    func corruptFileIsQuarantined() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let broken: RoomAddress
        let good: Data
        do {
            let fixture = try RuntimeFixture(directory: directory)
            broken = try fixture.address("broken")
            let (handle, client) = try fixture.connect("broken")
            await handle.receive(.text("note:kept"))
            try await client.waitFor(1, ofType: "note")
            await fixture.stop()
            // The room's writes are in its WAL (closing does not checkpoint): fold them into the
            // file, so that the file alone is the good copy.
            let file = fixture.runtime.layout.file(of: broken)
            let database = try DatabaseQueue(path: file.path)
            try await database.writeWithoutTransaction { try $0.execute(sql: "PRAGMA wal_checkpoint(TRUNCATE)") }
            try database.close()
            good = try Data(contentsOf: file)
        }

        // Garbage where the room's file was.
        let logs = LogRecorder()
        let fixture = try RuntimeFixture(directory: directory, logger: logs.logger)
        let file = fixture.runtime.layout.file(of: broken)
        for suffix in ["-wal", "-shm"] { try? FileManager.default.removeItem(atPath: file.path + suffix) }
        try Data(repeating: 0xA5, count: 64 * 1024).write(to: file)

        for _ in 0..<20 {
            let error = await #expect(throws: RoomError.self) {
                try await fixture.request("broken", "GET", [])
            }
            #expect(error?.code == .roomUnavailable)
            #expect(error?.category == .unavailable)
        }
        // A connection is refused the same way, with the close code for a room that cannot open.
        let (_, client) = try fixture.connect("broken")
        try await client.waitFor(1, ofType: "error")
        #expect(client.objects(ofType: "error").first?["code"] as? String == "room_unavailable")
        try await eventually("the connection is closed") { client.closeCode != nil }
        #expect(client.closeCode == .internalError)

        // Another room on the node is unaffected.
        let (otherHandle, otherClient) = try fixture.connect("other")
        await otherHandle.receive(.text("note:fine"))
        try await otherClient.waitFor(1, ofType: "note")

        // The node said which file is broken, once, not once per attempt.
        let reports = logs.all.filter { $0.level >= .error && $0.metadata["room"]?.contains("broken") == true }
        #expect(reports.count == 1, "\(reports.map(\.message))")
        #expect(reports.first?.metadata.values.contains { $0.contains(file.path) } == true, "\(reports)")

        // Mended, the room comes back once its backoff is over.
        try good.write(to: file)
        let deadline = ContinuousClock.now + .seconds(30)
        while (try? await fixture.request("broken", "GET", [])) != #"["kept"]"# {
            guard ContinuousClock.now < deadline else { throw TimedOut(description: "the mended room never opened") }
            try await Task.sleep(for: .milliseconds(50))
        }
        await fixture.stop()
    }

    @Test("a frame refused because its room cannot open is answered with its id, on a socket kept through hibernation")
    func refusedFrameNamesItsID() async throws {
        // No warm databases: a parked connection would go on reading the replaced file's inode.
        let fixture = try RuntimeFixture(idleTimeout: .milliseconds(50), warmDatabases: 0)
        defer { fixture.directory.remove() }
        let (handle, client) = try fixture.connect("kept")
        await handle.receive(.text("note:one"))
        try await client.waitFor(1, ofType: "note")
        let address = try fixture.address("kept")
        try await eventually("the room hibernated") { try !fixture.runtime.info(for: address).active }
        let file = fixture.runtime.layout.file(of: address)
        for suffix in ["-wal", "-shm"] { try? FileManager.default.removeItem(atPath: file.path + suffix) }
        try Data(repeating: 0x5A, count: 8192).write(to: file)

        await handle.receive(.text(#"{"type": "note", "id": "m-7"}"#))
        let error = try await client.waitFor(1, ofType: "error")[0]
        #expect(error["code"] as? String == "room_unavailable")
        #expect(error["id"] as? String == "m-7")
        #expect(client.closeCode == nil, "the socket stays open")
        await fixture.stop()
    }
}
