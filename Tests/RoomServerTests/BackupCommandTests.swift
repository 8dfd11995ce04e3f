import Foundation
import HTTPTypes
import Synchronization
import TestSupport
import Testing

/// `rooms backup` and `rooms restore` on data directories a real server wrote, under load.
@Suite("rooms backup and restore", .watched)
struct BackupCommandTests {
    private static let kinds = #"{"chat": {"class": "chat"}}"#

    private static func temporary(_ name: String) -> URL {
        FileManager.default.temporaryDirectory.appendingPathComponent("rooms-\(name)-\(UUID())")
    }

    /// Every (room, id) → seq a server acknowledged, in order of acknowledgement.
    private final class Ledger: Sendable {
        let acks = Mutex<[(room: String, id: String, seq: Int)]>([])
        var snapshot: [(room: String, id: String, seq: Int)] { acks.withLock { $0 } }
    }

    /// Posts to `rooms` round-robin until cancelled, recording every 201 in `ledger`.
    private static func load(_ server: ServerProcess, rooms: [String], ledger: Ledger, sender: Int) async {
        var n = 0
        while !Task.isCancelled {
            let room = rooms[n % rooms.count]
            let id = "s\(sender)-\(n)"
            n += 1
            guard
                let answer = try? await server.http(
                    .post, "/rooms/chat/\(room)/messages", body: #"{"user":"ann","text":"m \#(id)","id":"\#(id)"}"#),
                answer.status == 201, let seq = answer.json["seq"] as? Int
            else { continue }
            ledger.acks.withLock { $0.append((room, id, seq)) }
        }
    }

    /// Every message of a chat room, oldest first, as (id, seq).
    private static func history(_ server: ServerProcess, room: String) async throws -> [(id: String, seq: Int)] {
        var all: [(id: String, seq: Int)] = []
        while true {
            let page = try await server.http(.get, "/rooms/chat/\(room)/messages?after=\(all.last?.seq ?? 0)&limit=500")
            try #require(page.status == 200, "\(page.body)")
            let messages = page.json["messages"] as? [[String: Any]] ?? []
            if messages.isEmpty { return all }
            all += messages.map { ($0["id"] as? String ?? "", $0["seq"] as? Int ?? -1) }
        }
    }

    @Test(
        "backup while two senders write to 12 rooms: everything acknowledged before it began is restored with its seq, every room gap-free, the restored node takes new messages after them; rooms check passes on the restore"
    )
    func underLoad() async throws {
        let base = Self.temporary("backup-source")
        let backup = Self.temporary("backup")
        let restoredBase = Self.temporary("backup-restored")
        defer {
            for url in [base, backup, restoredBase] { try? FileManager.default.removeItem(at: url) }
        }
        let server = try await ServerProcess.start(kinds: Self.kinds, dataDirectory: base)
        let rooms = (0..<12).map { "room-\($0)" }
        let ledger = Ledger()
        let senders = (0..<2).map { sender in Task { await Self.load(server, rooms: rooms, ledger: ledger, sender: sender) } }
        while ledger.snapshot.count < 300 { try await Task.sleep(for: .milliseconds(20)) }

        let before = ledger.snapshot
        let result = try await RoomsBinary.run(
            RoomsBinary.url.path, ["backup", "--data-dir", base.appendingPathComponent("data").path, "--to", backup.path])
        let acknowledgedDuringBackup = ledger.snapshot.count - before.count
        for sender in senders { sender.cancel() }
        for sender in senders { await sender.value }
        #expect(try await server.stop() == 0)
        #expect(result.status == 0, "\(result.output)")
        #expect(result.output.contains("backed up 12 room files and the node directory"), "\(result.output)")
        #expect(acknowledgedDuringBackup > 0, "the senders stood still while the backup ran")
        let manifest = try #require(
            try JSONSerialization.jsonObject(with: Data(contentsOf: backup.appendingPathComponent("backup.json")))
                as? [String: Any])
        #expect(manifest["roomFiles"] as? Int == 12 && manifest["format"] as? Int == 1, "\(manifest)")

        let restore = try await RoomsBinary.run(
            RoomsBinary.url.path,
            ["restore", "--from", backup.path, "--data-dir", restoredBase.appendingPathComponent("data").path])
        #expect(restore.status == 0, "\(restore.output)")
        #expect(restore.output.contains("checked 12 room files and the node directory: all ok"), "\(restore.output)")

        let restored = try await ServerProcess.start(kinds: Self.kinds, dataDirectory: restoredBase)
        let everything = Dictionary(ledger.snapshot.map { ("\($0.room)/\($0.id)", $0.seq) }, uniquingKeysWith: { a, _ in a })
        var restoredCount = 0
        for room in rooms {
            let history = try await Self.history(restored, room: room)
            restoredCount += history.count
            #expect(history.map(\.seq) == Array(1..<(history.count + 1)), "\(room) has gaps")
            for message in history {
                #expect(everything["\(room)/\(message.id)"] == message.seq, "\(room)/\(message.id) was never acknowledged with seq \(message.seq)")
            }
            let ids = Dictionary(history.map { ($0.id, $0.seq) }, uniquingKeysWith: { a, _ in a })
            for ack in before where ack.room == room {
                #expect(ids[ack.id] == ack.seq, "\(room)/\(ack.id) (seq \(ack.seq)) acknowledged before the backup began is missing")
            }
            let next = try await restored.http(.post, "/rooms/chat/\(room)/messages", body: #"{"user":"ann","text":"after restore"}"#)
            #expect(next.status == 201 && next.json["seq"] as? Int == history.count + 1, "\(room): \(next.body)")
        }
        #expect(restoredCount >= before.count)
        #expect(try await restored.stop() == 0)

        let check = try await RoomsBinary.run(
            RoomsBinary.url.path, ["check", "--data-dir", restoredBase.appendingPathComponent("data").path])
        #expect(check.status == 0, "\(check.output)")
    }

    @Test(
        "garbage: backup into a non-empty folder or from a missing data directory, restore from a folder without backup.json, into a non-empty directory, from a backup missing a file or holding a corrupt one: exit non-zero with a clear message, nothing written"
    )
    func refusals() async throws {
        let base = Self.temporary("backup-refusals")
        defer { try? FileManager.default.removeItem(at: base) }
        let server = try await ServerProcess.start(kinds: Self.kinds, dataDirectory: base)
        for room in ["a", "b", "c"] {
            #expect(try await server.http(.post, "/rooms/chat/\(room)/messages", body: #"{"user":"ann","text":"hi"}"#).status == 201)
        }
        #expect(try await server.stop() == 0)
        let data = base.appendingPathComponent("data").path
        let fileManager = FileManager.default
        func run(_ arguments: [String]) async throws -> (status: Int32, output: String) {
            try await RoomsBinary.run(RoomsBinary.url.path, arguments)
        }
        func contents(_ url: URL) -> [String] {
            ((try? fileManager.subpathsOfDirectory(atPath: url.path)) ?? []).sorted()
        }

        // Backup into a folder that holds something: refused, the folder left as it was.
        let occupied = base.appendingPathComponent("occupied")
        try fileManager.createDirectory(at: occupied, withIntermediateDirectories: true)
        try Data("keep".utf8).write(to: occupied.appendingPathComponent("note.txt"))
        let intoOccupied = try await run(["backup", "--data-dir", data, "--to", occupied.path])
        #expect(intoOccupied.status == 1, "\(intoOccupied.output)")
        #expect(intoOccupied.output.contains("exists and is not empty"), "\(intoOccupied.output)")
        #expect(contents(occupied) == ["note.txt"])

        // Backup from a directory that does not exist, or is not a data directory.
        let missing = try await run(["backup", "--data-dir", base.appendingPathComponent("nope").path, "--to", base.appendingPathComponent("b0").path])
        #expect(missing.status != 0 && missing.output.contains("does not exist"), "\(missing.output)")
        let notData = try await run(["backup", "--data-dir", occupied.path, "--to", base.appendingPathComponent("b0").path])
        #expect(notData.status != 0 && notData.output.contains("not a data directory"), "\(notData.output)")
        #expect(!fileManager.fileExists(atPath: base.appendingPathComponent("b0").path))

        // A good backup to damage below.
        let backup = base.appendingPathComponent("backup")
        let made = try await run(["backup", "--data-dir", data, "--to", backup.path])
        #expect(made.status == 0, "\(made.output)")

        // Restore from a folder without backup.json: refused, the target not created.
        let target = base.appendingPathComponent("restored")
        let notBackup = try await run(["restore", "--from", occupied.path, "--data-dir", target.path])
        #expect(notBackup.status == 1 && notBackup.output.contains("has no backup.json"), "\(notBackup.output)")
        #expect(!fileManager.fileExists(atPath: target.path))

        // Restore into a directory that holds something: refused, nothing added.
        let intoOccupiedRestore = try await run(["restore", "--from", backup.path, "--data-dir", occupied.path])
        #expect(intoOccupiedRestore.status == 1 && intoOccupiedRestore.output.contains("is not empty"), "\(intoOccupiedRestore.output)")
        #expect(contents(occupied) == ["note.txt"])

        // A garbage manifest.
        let badManifest = base.appendingPathComponent("bad-manifest")
        try fileManager.createDirectory(at: badManifest, withIntermediateDirectories: true)
        try Data("{\"format\": \"x\"".utf8).write(to: badManifest.appendingPathComponent("backup.json"))
        let garbage = try await run(["restore", "--from", badManifest.path, "--data-dir", target.path])
        #expect(garbage.status == 1 && garbage.output.contains("is not a backup manifest"), "\(garbage.output)")
        #expect(!fileManager.fileExists(atPath: target.path))

        // A backup missing one room file: refused before anything is copied.
        let roomFiles = contents(backup).filter { $0.hasPrefix("rooms/") && $0.hasSuffix(".sqlite") }
        #expect(roomFiles.count == 3)
        let partial = base.appendingPathComponent("partial")
        try fileManager.copyItem(at: backup, to: partial)
        try fileManager.removeItem(at: partial.appendingPathComponent(roomFiles[0]))
        let short = try await run(["restore", "--from", partial.path, "--data-dir", target.path])
        #expect(short.status == 1 && short.output.contains("holds 2 room files, its manifest 3"), "\(short.output)")
        #expect(!fileManager.fileExists(atPath: target.path))

        // A backup with one corrupt room file: restored, and the check names that file (exit 1).
        let corrupt = base.appendingPathComponent("corrupt")
        try fileManager.copyItem(at: backup, to: corrupt)
        let handle = try FileHandle(forWritingTo: corrupt.appendingPathComponent(roomFiles[1]))
        try handle.seek(toOffset: 4096)
        try handle.write(contentsOf: Data((0..<4096).map { UInt8(truncatingIfNeeded: $0 &* 131 &+ 7) }))
        try handle.close()
        let damaged = try await run(["restore", "--from", corrupt.path, "--data-dir", target.path])
        #expect(damaged.status == 1, "\(damaged.output)")
        #expect(damaged.output.contains(target.appendingPathComponent(roomFiles[1]).path + ": kind chat: "), "\(damaged.output)")
        #expect(damaged.output.contains("checked 3 room files: "), "\(damaged.output)")
    }
}
