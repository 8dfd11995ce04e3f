import Foundation
import HTTPTypes
import TestSupport
import Testing

/// `rooms serve` with its data directory on a small filesystem that fills up.
@Suite("A full disk", .watched)
struct DiskFullTests {
    /// A tmpfs of `megabytes` mounted at `directory`, or the reason there is none (mounting needs root).
    static func mountSmallFilesystem(at directory: URL, megabytes: Int) -> String? {
        guard getuid() == 0 else { return "not root: a small filesystem cannot be mounted" }
        guard let mount = RoomsBinary.which("mount") else { return "no mount on PATH" }
        try? FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        guard Self.status(of: mount, ["-t", "tmpfs", "-o", "size=\(megabytes)m", "tmpfs", directory.path]) == 0 else {
            return "mount -t tmpfs failed (a container without CAP_SYS_ADMIN?)"
        }
        return nil
    }

    /// Runs a short system program (mount, umount) to completion; its exit status, or -1.
    static func status(of executable: String, _ arguments: [String]) -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.standardError = FileHandle.nullDevice
        guard (try? process.runToExitBlocking()) != nil else { return -1 }
        return process.terminationStatus
    }

    /// Writes zeros to `file` until the filesystem has no space left; returns the bytes written.
    static func fill(_ file: URL) -> Int {
        let descriptor = open(file.path, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        guard descriptor >= 0 else { return 0 }
        defer { close(descriptor) }
        let chunk = [UInt8](repeating: 0, count: 16_384)
        var total = 0
        while true {
            let written = chunk.withUnsafeBytes { write(descriptor, $0.baseAddress!, $0.count) }
            if written <= 0 { break }
            total += written
        }
        // The last pages a partial write left free.
        for _ in 0..<64 where write(descriptor, chunk, 512) > 0 { total += 512 }
        return total
    }

    /// What one POST of a message got: its seq, or the error code of a refusal.
    enum Answer: Equatable {
        case stored(Int)
        case refused(Int, String)
    }

    static func post(_ server: ServerProcess, room: String, id: String, text: String) async throws -> Answer {
        let result = try await server.http(
            .post, "/rooms/chat/\(room)/messages", body: #"{"user": "ann", "id": "\#(id)", "text": "\#(text)"}"#)
        if result.status == 201 || result.status == 200, let seq = result.json["seq"] as? Int { return .stored(seq) }
        let code = (result.json["error"] as? [String: Any])?["code"] as? String ?? result.body
        return .refused(result.status, code)
    }

    static func history(_ server: ServerProcess, room: String) async throws -> [(seq: Int, id: String)] {
        let result = try await server.http(.get, "/rooms/chat/\(room)/messages?limit=500&user=ann")
        #expect(result.status == 200, "history of \(room): \(result.body)")
        let messages = result.json["messages"] as? [[String: Any]] ?? []
        return messages.compactMap { message in
            guard let seq = message["seq"] as? Int, let id = message["id"] as? String else { return nil }
            return (seq, id)
        }
    }

    @Test(
        "when the disk fills, senders get 503 storage_failed and never an ack for what was not stored, reads go on, the node recovers without a restart once space returns, and a restart finds every acknowledged message once"
    )
    func fullDisk() async throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("rooms-full-\(UUID())")
        let data = root.appendingPathComponent("data")
        if let reason = Self.mountSmallFilesystem(at: data, megabytes: 4) {
            print("DiskFullTests skipped: \(reason)")
            try? FileManager.default.removeItem(at: root)
            return
        }
        defer {
            _ = Self.status(of: RoomsBinary.which("umount") ?? "/bin/umount", ["-l", data.path])
            try? FileManager.default.removeItem(at: root)
        }
        let kinds = #"{"chat": {"class": "chat"}}"#
        let server = try await ServerProcess.start(kinds: kinds, dataDirectory: root)
        var acknowledged: [String: [String: Int]] = ["a": [:], "b": [:]]
        let text = String(repeating: "x", count: 3_000)
        for index in 0..<10 {
            guard case .stored(let seq) = try await Self.post(server, room: "a", id: "before-\(index)", text: text) else {
                Issue.record("a message before the disk filled was refused")
                return
            }
            acknowledged["a"]!["before-\(index)"] = seq
        }

        // Fill the filesystem, then keep sending: to the room that has a file, and to a new one.
        let filler = data.appendingPathComponent("filler")
        #expect(Self.fill(filler) > 0)
        var refusals: [Answer] = []
        for index in 0..<60 {
            for room in ["a", "b"] {
                let id = "full-\(index)"
                switch try await Self.post(server, room: room, id: id, text: text) {
                case .stored(let seq): acknowledged[room]![id] = seq
                case let refused: refusals.append(refused)
                }
            }
        }
        let storedWhileFull = acknowledged.values.map { $0.keys.filter { $0.hasPrefix("full-") }.count }.reduce(0, +)
        print("DiskFullTests: on the full disk, \(storedWhileFull) sends stored, \(refusals.count) refused")
        #expect(!refusals.isEmpty, "no send was refused on a full disk")
        #expect(refusals.allSatisfy { $0 == .refused(503, "storage_failed") }, "\(Set(refusals.map { "\($0)" }))")
        #expect(server.output.contains("full"), "the log does not say the disk is full")

        // Reads keep working while the disk is full.
        let whileFull = try await Self.history(server, room: "a")
        #expect(Set(whileFull.map(\.id)).isSuperset(of: acknowledged["a"]!.keys))

        // Space returns: the same node stores again, without a restart.
        try FileManager.default.removeItem(at: filler)
        for room in ["a", "b"] {
            var stored = false
            for attempt in 0..<50 where !stored {
                if case .stored(let seq) = try await Self.post(server, room: room, id: "after-\(attempt)", text: "back") {
                    acknowledged[room]!["after-\(attempt)"] = seq
                    stored = true
                } else {
                    try await Task.sleep(for: .milliseconds(100))
                }
            }
            #expect(stored, "room \(room) did not store again once space returned")
        }
        #expect(try await server.stop() == 0)

        // A restart finds every acknowledged message once, with its seq, and seqs without a gap.
        let again = try await ServerProcess.start(kinds: kinds, dataDirectory: root)
        for room in ["a", "b"] {
            let history = try await Self.history(again, room: room)
            #expect(history.map(\.seq) == Array(1..<(history.count + 1)), "room \(room): \(history.map(\.seq))")
            #expect(Set(history.map(\.id)).count == history.count, "room \(room) has a message twice")
            for (id, seq) in acknowledged[room]! {
                #expect(history.contains { $0.id == id && $0.seq == seq }, "room \(room) lost acknowledged \(id) (seq \(seq))")
            }
        }
        #expect(try await again.stop() == 0)
    }
}
