import ExampleRooms
import Foundation
import GRDB
import RoomRuntime
import RoomTesting
import TestSupport
import Testing

/// The `doc` room in process: operations transformed, acknowledged and relayed; ids applied once;
/// resume from the log or from the text; snapshots, the compacted log and versions read back;
/// cursors; and every refusal storing nothing.
@Suite("DocumentRoom", .watched)
struct DocumentRoomTests {
    static func op(_ id: String, base: Int, _ ops: String) -> String {
        #"{"type": "op", "id": "\#(id)", "base": \#(base), "ops": \#(ops)}"#
    }

    static func text(_ rooms: TestRuntime, _ id: String, version: Int? = nil) async throws -> (Int, String) {
        let response = try await rooms.request(
            id, "GET", ["text"], query: version.map { ["version": String($0)] } ?? [:])
        return (response.json["version"] as? Int ?? -1, response.json["text"] as? String ?? "?")
    }

    @Test("two concurrent edits on one version: both applied, transformed, acked and relayed; the same id again is acked, not applied")
    func concurrentEdits() async throws {
        let rooms = try TestRuntime(DocumentRoom.self)
        let ann = try rooms.connect("d", user: "ann")
        let bob = try rooms.connect("d", user: "bob")
        let first = try await ann.waitFor(ofType: "doc")[0]
        #expect(first["version"] as? Int == 0)
        #expect(first["text"] as? String == "")
        await ann.send(Self.op("a1", base: 0, #"[{"insert": "hello world"}]"#))
        #expect(try await ann.waitFor(ofType: "op.ack")[0]["version"] as? Int == 1)
        _ = try await bob.waitFor(ofType: "op")
        // Both edit version 1 at once: ann makes it "Hello", bob appends "!".
        await ann.send(Self.op("a2", base: 1, #"[{"delete": 1}, {"insert": "H"}]"#))
        await bob.send(Self.op("b1", base: 1, #"[{"retain": 11}, {"insert": "!"}]"#))
        let bobAck = try await bob.waitFor(ofType: "op.ack")[0]
        #expect(bobAck["id"] as? String == "b1")
        #expect(bobAck["version"] as? Int == 3)
        let relayed = try await ann.waitFor(ofType: "op")[0]
        #expect(relayed["user"] as? String == "bob")
        #expect(relayed["version"] as? Int == 3)
        let ops = relayed["ops"] as? [[String: Any]] ?? []
        #expect(ops.count == 2 && ops[0]["retain"] as? Int == 11 && ops[1]["insert"] as? String == "!", "\(ops)")
        #expect(try await Self.text(rooms, "d") == (3, "Hello world!"))
        // A resend after a lost ack: acknowledged with its version, not applied twice.
        await bob.send(Self.op("b1", base: 1, #"[{"retain": 11}, {"insert": "!"}]"#))
        let again = try await bob.waitFor(2, ofType: "op.ack")[1]
        #expect(again["version"] as? Int == 3)
        #expect(try await Self.text(rooms, "d") == (3, "Hello world!"))
        #expect(ann.frames(ofType: "op").count == 1, "the resend was not relayed")
        // Ids are per user: ann's "b1" is an edit of her own, not bob's resent.
        await ann.send(Self.op("b1", base: 3, #"[{"insert": ">"}]"#))
        #expect(try await ann.waitFor(3, ofType: "op.ack")[2]["version"] as? Int == 4)
        #expect(try await Self.text(rooms, "d") == (4, ">Hello world!"))
        await rooms.stopAndRemove()
    }

    /// The `id` of an op frame written by ``op(_:base:_:)``.
    static func opID(_ frame: String) -> String? {
        frame.range(of: #""id": "([^"]*)""#, options: .regularExpression).map { String(frame[$0].dropFirst(7).dropLast()) }
    }

    @Test("refused operations: an error code each, and nothing stored (the version and the file's log stay)")
    func refusals() async throws {
        let rooms = try TestRuntime(DocumentRoom.self, options: ["maxDocumentBytes": 16, "maxOperationBytes": 200])
        let ann = try rooms.connect("r", user: "ann")
        await ann.send(Self.op("ok", base: 0, #"[{"insert": "a😀b"}]"#))
        _ = try await ann.waitFor(ofType: "op.ack")
        let cases: [(String, String)] = [
            (Self.op("x1", base: 1, #"[{"retain": 5}]"#), "invalid_operation"),
            (Self.op("x2", base: 1, #"[{"retain": 2}, {"insert": "x"}]"#), "invalid_operation"),
            (Self.op("x3", base: 7, #"[{"insert": "x"}]"#), "version_ahead"),
            (Self.op("x4", base: 1, #"[{"insert": "0123456789abcdef"}]"#), "document_too_large"),
            (Self.op("x5", base: 1, #"[{"insert": "\#(String(repeating: "y", count: 300))"}]"#), "operation_too_large"),
            (Self.op("x6", base: 1, #"[{"retain": 0}]"#), "invalid_field"),
            (Self.op("x7", base: 1, #"[{"retain": 1, "delete": 1}]"#), "invalid_field"),
            (#"{"type": "op", "id": "x8", "ops": []}"#, "missing_field"),
            (#"{"type": "op", "id": "", "base": 1, "ops": []}"#, "invalid_field"),
            (#"{"type": "cursor", "anchor": 0, "head": 0, "version": 9}"#, "version_ahead"),
            (#"{"type": "draw"}"#, "unknown_type"),
            ("not json", "invalid_json"),
        ]
        for (index, (frame, code)) in cases.enumerated() {
            await ann.send(frame)
            let error = try await ann.waitFor(index + 1, ofType: "error")[index]
            #expect(error["code"] as? String == code, "\(frame)")
            if frame.contains(#""id": "x"#) { #expect(error["id"] as? String == Self.opID(frame), "the error names the op") }
        }
        #expect(try await Self.text(rooms, "r") == (1, "a😀b"))
        // On disk: the one op and its id, nothing of the refused ones.
        try await rooms.hibernate("r")
        let files = rooms.files().filter { $0.hasPrefix("rooms/") && !$0.hasSuffix("-wal") && !$0.hasSuffix("-shm") }
        let file = try #require(files.first, "the room's file among \(rooms.files())")
        let database = try DatabaseQueue(path: rooms.dataDirectory.appendingPathComponent(file).path)
        let stored = try await database.read { db in
            (try String.fetchAll(db, sql: "SELECT id FROM operations"), try String.fetchAll(db, sql: "SELECT id FROM operation_ids"))
        }
        try database.close()
        #expect(stored.0 == ["ok"] && stored.1 == ["ok"], "\(stored)")
        await rooms.stopAndRemove()
    }

    @Test("resume: within the log the missed ops (own ones by id), else the whole text; a restart keeps every acked op")
    func resume() async throws {
        var rooms = try TestRuntime(DocumentRoom.self, options: ["snapshotEvery": 5, "keepVersions": 3])
        let ann = try rooms.connect("m", user: "ann")
        for index in 0..<12 {
            await ann.send(Self.op("e\(index)", base: index, index == 0 ? #"[{"insert": "0"}]"# : #"[{"retain": \#(index)}, {"insert": "\#(index % 10)"}]"#))
            _ = try await ann.waitFor(index + 1, ofType: "op.ack")
        }
        #expect(try await Self.text(rooms, "m") == (12, "012345678901"))
        // Snapshots at 5 and 10; the log is cut at the newest snapshot at least 3 versions behind
        // the newest (5): it keeps the versions after 5.
        let recent = try rooms.connect("m", user: "bob", parameters: ["after": "8"])
        let welcome = try await recent.waitFor(ofType: "welcome")[0]
        #expect(welcome["recovered"] as? Bool == true)
        try await eventually("the missed ops") { recent.frames(ofType: "op").count == 4 }
        #expect(recent.frames(ofType: "op").map { $0["version"] as? Int } == [9, 10, 11, 12])
        #expect(recent.frames(ofType: "op").first?["id"] as? String == "e8")
        #expect(recent.frames(ofType: "doc").isEmpty)
        let old = try rooms.connect("m", user: "cat", parameters: ["after": "4"])
        #expect(try await old.waitFor(ofType: "welcome")[0]["recovered"] as? Bool == false)
        #expect(try await old.waitFor(ofType: "doc")[0]["text"] as? String == "012345678901")
        #expect(old.frames(ofType: "op").isEmpty)

        let versions = try await rooms.request("m", "GET", ["versions"]).json
        #expect((versions["snapshots"] as? [[String: Any]])?.map { $0["version"] as? Int } == [10, 5])
        #expect(try await Self.text(rooms, "m", version: 5) == (5, "01234"))
        #expect(try await Self.text(rooms, "m", version: 9) == (9, "012345678"))
        #expect(try await Self.text(rooms, "m", version: 6) == (6, "012345"))
        let gone = await #expect(throws: RoomError.self) { _ = try await Self.text(rooms, "m", version: 4) }
        #expect(gone?.code == .versionGone)

        rooms = try await rooms.restart()
        #expect(try await Self.text(rooms, "m") == (12, "012345678901"))
        let after = try rooms.connect("m", user: "ann", parameters: ["after": "12"])
        #expect(try await after.waitFor(ofType: "welcome")[0]["recovered"] as? Bool == true)
        await after.send(Self.op("e12", base: 12, #"[{"retain": 12}, {"insert": "X"}]"#))
        #expect(try await after.waitFor(ofType: "op.ack")[0]["version"] as? Int == 13)
        #expect(after.frames(ofType: "doc").isEmpty)
        await rooms.stopAndRemove()
    }

    @Test("the HTTP routes refuse garbage with a code and change nothing")
    func httpGarbage() async throws {
        let rooms = try TestRuntime(DocumentRoom.self)
        let ann = try rooms.connect("h", user: "ann")
        await ann.send(Self.op("1", base: 0, #"[{"insert": "kept"}]"#))
        _ = try await ann.waitFor(ofType: "op.ack")
        let cases: [(String, [String], [String: String], RoomError.Code)] = [
            ("GET", ["text"], ["version": "abc"], .invalidQuery),
            ("GET", ["text"], ["version": "-1"], .invalidQuery),
            ("GET", ["text"], ["version": "99"], .versionAhead),
            ("GET", ["versions"], ["limit": "0"], .invalidQuery),
            ("GET", ["versions"], ["before": "x"], .invalidQuery),
            ("POST", ["text"], [:], .notFound),
            ("PUT", ["versions"], [:], .notFound),
            ("GET", ["text", "more"], [:], .notFound),
        ]
        for (method, path, query, code) in cases {
            let refused = await #expect(throws: RoomError.self, "\(method) \(path) \(query)") {
                _ = try await rooms.request("h", method, path, query: query, body: "{garbage")
            }
            #expect(refused?.code == code, "\(method) \(path) \(query)")
        }
        #expect(try await Self.text(rooms, "h") == (1, "kept"))
        #expect((try await rooms.request("h", "GET", ["versions"]).json["snapshots"] as? [Any])?.isEmpty == true)
        await rooms.stopAndRemove()
    }

    @Test("after a restart the log reads back whole: the text is rebuilt, and an edit on an old base is transformed against it")
    func restartWithLog() async throws {
        var rooms = try TestRuntime(DocumentRoom.self)
        let ann = try rooms.connect("w", user: "ann")
        await ann.send(Self.op("1", base: 0, #"[{"insert": "world"}]"#))
        await ann.send(Self.op("2", base: 1, #"[{"insert": "hello "}]"#))  // the trailing retain left out
        await ann.send(Self.op("3", base: 2, #"[{"retain": 5}, {"insert": ","}]"#))
        _ = try await ann.waitFor(3, ofType: "op.ack")
        rooms = try await rooms.restart()
        #expect(try await Self.text(rooms, "w") == (3, "hello, world"))
        // Made on version 1 ("world"): transformed against versions 2 and 3 as read back.
        let bob = try rooms.connect("w", user: "bob")
        await bob.send(Self.op("4", base: 1, #"[{"retain": 5}, {"insert": "!"}]"#))
        #expect(try await bob.waitFor(ofType: "op.ack")[0]["version"] as? Int == 4)
        #expect(try await Self.text(rooms, "w") == (4, "hello, world!"))
        #expect(try await Self.text(rooms, "w", version: 2) == (2, "hello world"))
        await rooms.stopAndRemove()
    }

    @Test("cursors: moved to the current version, relayed to the others with the user, throttled; gone when the user leaves")
    func cursors() async throws {
        let rooms = try TestRuntime(DocumentRoom.self, options: ["cursorIntervalMilliseconds": 200])
        let ann = try rooms.connect("c", user: "ann")
        let bob = try rooms.connect("c", user: "bob")
        await ann.send(Self.op("a", base: 0, #"[{"insert": "abcdef"}]"#))
        _ = try await ann.waitFor(ofType: "op.ack")
        await bob.send(Self.op("b", base: 1, #"[{"insert": "XY"}, {"retain": 6}]"#))
        _ = try await bob.waitFor(ofType: "op.ack")
        // ann's cursor at 3 in version 1 is at 5 in version 2.
        await ann.send(#"{"type": "cursor", "anchor": 3, "head": 4, "version": 1}"#)
        let cursor = try await bob.waitFor(ofType: "cursor")[0]
        #expect(cursor["user"] as? String == "ann")
        #expect(cursor["anchor"] as? Int == 5)
        #expect(cursor["head"] as? Int == 6)
        #expect(cursor["version"] as? Int == 2)
        #expect(ann.frames(ofType: "cursor").isEmpty, "not sent back to its sender")
        // Eight moves within the interval: at most one relayed at once, the last at the interval's end.
        for position in 0..<8 {
            await ann.send(#"{"type": "cursor", "anchor": \#(position), "head": \#(position), "version": 2}"#)
        }
        try await eventually("the last position") { bob.frames(ofType: "cursor").last?["anchor"] as? Int == 7 }
        #expect(bob.frames(ofType: "cursor").count <= 3, "throttled: \(bob.frames(ofType: "cursor").count)")
        let cat = try rooms.connect("c", user: "cat")
        #expect(try await cat.waitFor(ofType: "cursor")[0]["user"] as? String == "ann", "a newcomer sees the cursors")
        ann.disconnect()
        #expect(try await bob.waitFor(ofType: "cursor.leave")[0]["user"] as? String == "ann")
        await rooms.stopAndRemove()
    }
}
