import Foundation
import TestSupport
import Testing

@testable import RoomBench

/// The `doc` scenario's editors keep the version and the text's length from the frames' bytes:
/// these feed them frames as the room writes them and check the edits they then make.
@Suite("rooms bench: the document editor", .watched)
struct DocumentEditorTests {
    func feed(_ text: String, _ body: (UnsafeRawBufferPointer) -> Void) {
        Array(text.utf8).withUnsafeBytes(body)
    }

    @Test("doc, op and op.ack frames keep the version and the length; every edit spans the text it is based on")
    func tracking() throws {
        var editor = DocumentEditor()
        #expect(editor.loaded && editor.version == 0 && editor.length == 0, "a new room: empty at version 0")
        feed(#"{"text":"hello world","type":"doc","version":7}"#) { editor.loaded($0) }
        #expect(editor.loaded && editor.version == 7 && editor.length == 11)
        feed(#"{"id":"x","ops":[{"retain":2},{"insert":"abc"},{"delete":4}],"type":"op","user":"u","version":8}"#) {
            editor.applied($0)
        }
        #expect(editor.version == 8 && editor.length == 10)
        let frame = editor.edit(id: 1, stamp: "123:xx")
        let object = try #require(JSONSerialization.jsonObject(with: Data(frame.utf8)) as? [String: Any])
        #expect(object["base"] as? Int == 8)
        let ops = try #require(object["ops"] as? [[String: Any]])
        #expect(ops.count == 1 || (ops[0]["retain"] as? Int).map { (1...10).contains($0) } == true, "no retain of 0")
        #expect(ops.last?["insert"] as? String == "123:xx")
        feed(#"{"id":"e1","type":"op.ack","version":9}"#) { editor.acknowledged($0) }
        #expect(editor.version == 9 && editor.length == 16)
        feed(#"{"text":"","type":"doc","version":0}"#) { editor.loaded($0) }
        #expect(editor.version == 9 && editor.length == 16, "a late doc frame of an older version changes nothing")
    }

    @Test("past the steady length an editor deletes as often as it inserts, inside the text")
    func steady() throws {
        var editor = DocumentEditor()
        feed(#"{"text":"\#(String(repeating: "x", count: DocumentEditor.steadyLength + 5))","type":"doc","version":1}"#) {
            editor.loaded($0)
        }
        var deletes = 0
        for id in 0..<200 {
            let frame = editor.edit(id: id, stamp: "1:x")
            guard frame.contains("delete") else { continue }
            deletes += 1
            let ops = try #require((JSONSerialization.jsonObject(with: Data(frame.utf8)) as? [String: Any])?["ops"] as? [[String: Int]])
            #expect((ops.first?["retain"] ?? 0) + ops.last!["delete"]! <= editor.length)
            #expect(ops.first?["retain"] != 0)
        }
        #expect(deletes > 50 && deletes < 150)
    }
}
