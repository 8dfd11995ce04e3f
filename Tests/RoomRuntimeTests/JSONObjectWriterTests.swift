import Foundation
import TestSupport
import Testing

@_spi(Node) @testable import RoomRuntime

@Suite("JSON object writer", .watched)
struct JSONObjectWriterTests {
    @Test(
        "strings round-trip through a JSON parser, whatever they hold",
        arguments: [
            "plain", "", "quote \" and backslash \\ and slash /", "new\nline\r\ttab", "nul \u{0} and \u{1F} and \u{7F}",
            "ünïcödé ✓ 🎉 \u{2028}\u{2029}", String(repeating: "\\\"", count: 100),
        ])
    func roundTrip(text: String) throws {
        let frame = OutboundFrame.jsonObject { object in
            object.string("type", "message")
            object.string("text", text)
            object.integer("seq", Int64.max)
            object.integer("neg", -42)
            object.bool("flag", false)
            object.string("absent", nil)
        }
        let object = try JSONSerialization.jsonObject(with: Data(frame.text.utf8)) as? [String: Any] ?? [:]
        #expect(object["text"] as? String == text)
        #expect(object["type"] as? String == "message")
        #expect((object["seq"] as? NSNumber)?.int64Value == Int64.max)
        #expect(object["neg"] as? Int == -42)
        #expect(object["flag"] as? Bool == false)
        #expect(object["absent"] == nil)
        #expect(object.count == 5)
    }

    @Test("an empty object is {}")
    func empty() {
        #expect(OutboundFrame.jsonObject { _ in }.text == "{}")
    }
}
