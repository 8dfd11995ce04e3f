import Foundation
import GRDB
import TestSupport
import Testing

/// `rooms check` on a real data directory that a real server wrote.
@Suite("rooms check", .watched)
struct CheckCommandTests {
    /// A data directory with three chat rooms a real server created (each with one message), the
    /// server stopped; returns the directory given to the server and its `data` folder.
    private static func populatedDataDirectory() async throws -> (base: URL, data: URL) {
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("rooms-check-\(UUID())")
        let server = try await ServerProcess.start(kinds: #"{"chat": {"class": "chat"}}"#, dataDirectory: base)
        for room in ["one", "two", "three"] {
            let ann = try await server.socket("/rooms/chat/\(room)/ws?user=ann")
            try await ann.waitFor(1, "welcome")
            ann.send(json: ["type": "send", "id": "m1", "text": "hello \(room)"])
            try await ann.waitFor(1, "ack")
            try await ann.close()
        }
        #expect(try await server.stop() == 0)
        return (base, base.appendingPathComponent("data"))
    }

    /// Every room file under `data`, sorted.
    private static func roomFiles(in data: URL) -> [URL] {
        let enumerator = FileManager.default.enumerator(at: data.appendingPathComponent("rooms"), includingPropertiesForKeys: nil)
        var files: [URL] = []
        while let url = enumerator?.nextObject() as? URL {
            if url.pathExtension == "sqlite" { files.append(url) }
        }
        return files.sorted { $0.path < $1.path }
    }

    private static func check(_ data: URL) async throws -> (status: Int32, output: String) {
        try await RoomsBinary.run(RoomsBinary.url.path, ["check", "--data-dir", data.path])
    }

    @Test("a healthy data directory: exit 0, every room file counted; then one corrupt page: exit 1 naming that file only")
    func healthyThenCorrupt() async throws {
        let (base, data) = try await Self.populatedDataDirectory()
        defer { try? FileManager.default.removeItem(at: base) }
        let files = Self.roomFiles(in: data)
        #expect(files.count == 3)

        let healthy = try await Self.check(data)
        #expect(healthy.status == 0, "\(healthy.output)")
        #expect(healthy.output.contains("checked 3 room files and the node directory: all ok"), "\(healthy.output)")

        // Garbage over the second page (the file is several 4 KiB pages: schema, tables, indexes).
        let victim = files[1]
        let size = try #require(try FileManager.default.attributesOfItem(atPath: victim.path)[.size] as? Int)
        #expect(size >= 3 * 4096, "room file is only \(size) bytes")
        let handle = try FileHandle(forWritingTo: victim)
        try handle.seek(toOffset: 4096)
        try handle.write(contentsOf: Data((0..<4096).map { UInt8(truncatingIfNeeded: $0 &* 131 &+ 7) }))
        try handle.close()

        let corrupt = try await Self.check(data)
        #expect(corrupt.status == 1, "\(corrupt.output)")
        let problemLines = corrupt.output.split(separator: "\n").filter { $0.hasPrefix("/") }
        #expect(!problemLines.isEmpty, "\(corrupt.output)")
        #expect(problemLines.allSatisfy { $0.hasPrefix(victim.path + ": kind chat: ") }, "\(corrupt.output)")
        #expect(corrupt.output.contains("checked 3 room files and the node directory: \(problemLines.count) problems"), "\(corrupt.output)")
    }

    @Test("a file that is not SQLite, one with no schema version, one from a newer build: exit 1, each named")
    func notSQLiteNoSchemaNewerSchema() async throws {
        let (base, data) = try await Self.populatedDataDirectory()
        defer { try? FileManager.default.removeItem(at: base) }
        let folder = data.appendingPathComponent("rooms/chat/ab/cd")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let text = folder.appendingPathComponent(String(repeating: "ab", count: 32) + ".sqlite")
        try Data(String(repeating: "this is not a database\n", count: 400).utf8).write(to: text)
        let unversioned = folder.appendingPathComponent(String(repeating: "cd", count: 32) + ".sqlite")
        try await DatabaseQueue(path: unversioned.path).write { try $0.execute(sql: "CREATE TABLE t (x); INSERT INTO t VALUES (1)") }
        // A copy of a healthy room file that a later build migrated one runtime step further.
        let newer = folder.appendingPathComponent(String(repeating: "ef", count: 32) + ".sqlite")
        try FileManager.default.copyItem(at: Self.roomFiles(in: data)[0], to: newer)
        try await DatabaseQueue(path: newer.path).write {
            try $0.execute(sql: "INSERT INTO grdb_migrations (identifier) VALUES ('_rooms.v99-future')")
        }

        let result = try await Self.check(data)
        #expect(result.status == 1, "\(result.output)")
        #expect(result.output.contains("\(text.path): kind chat: unreadable"), "\(result.output)")
        #expect(result.output.contains("\(unversioned.path): kind chat: no schema version"), "\(result.output)")
        #expect(
            result.output.contains("\(newer.path): kind chat: schema newer than this build knows (_rooms.v99-future)"),
            "\(result.output)")
        #expect(result.output.contains("checked 6 room files and the node directory: 3 problems"), "\(result.output)")
    }

    @Test("while a server runs and holds its rooms open (WAL, -shm): exit 0, and the server still serves them")
    func besideARunningServer() async throws {
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("rooms-check-\(UUID())")
        defer { try? FileManager.default.removeItem(at: base) }
        let server = try await ServerProcess.start(kinds: #"{"chat": {"class": "chat"}}"#, dataDirectory: base)
        let ann = try await server.socket("/rooms/chat/live/ws?user=ann")
        try await ann.waitFor(1, "welcome")
        ann.send(json: ["type": "send", "id": "m1", "text": "before"])
        try await ann.waitFor(1, "ack")
        let data = base.appendingPathComponent("data")
        let files = Self.roomFiles(in: data)
        #expect(files.count == 1)
        #expect(FileManager.default.fileExists(atPath: files[0].path + "-wal"), "the room is not open in WAL mode")

        let result = try await Self.check(data)
        #expect(result.status == 0, "\(result.output)")
        #expect(result.output.contains("checked 1 room files and the node directory: all ok"), "\(result.output)")

        ann.send(json: ["type": "send", "id": "m2", "text": "after"])
        let ack = try await ann.waitFor(2, "ack")
        #expect(ack.last?["seq"] as? Int == 2)
        try await ann.close()
        #expect(try await server.stop() == 0)
    }

    @Test("a missing data directory, or a file given as one: a clear error, non-zero status")
    func missingDataDirectory() async throws {
        let missing = FileManager.default.temporaryDirectory.appendingPathComponent("rooms-check-missing-\(UUID())")
        let result = try await Self.check(missing)
        #expect(result.status != 0)
        #expect(result.output.contains("--data-dir '\(missing.path)' does not exist"), "\(result.output)")

        let file = FileManager.default.temporaryDirectory.appendingPathComponent("rooms-check-file-\(UUID())")
        try Data("x".utf8).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        let notFolder = try await Self.check(file)
        #expect(notFolder.status != 0)
        #expect(notFolder.output.contains("is not a directory"), "\(notFolder.output)")
    }
}
