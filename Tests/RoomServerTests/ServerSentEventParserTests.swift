import AIRooms
import TestSupport
import Testing

@Suite("Server-sent events parser", .watched)
struct ServerSentEventParserTests {
    static func parse(_ chunks: [[UInt8]]) throws -> [ServerSentEvent] {
        var parser = ServerSentEventParser()
        var events: [ServerSentEvent] = []
        for chunk in chunks { events += try parser.feed(chunk) }
        parser.finish()
        return events
    }

    static let stream =
        ": keep-alive\n\n" + "data: {\"a\":1}\r\n\r\n" + "event: message\ndata: two\ndata: lines\n\n"
        + "id: 7\nretry: 100\ndata:no-space\r\r" + "data: ünïcödé ✓\n\n" + ": ping\n" + "data: [DONE]\n\n"

    static let expected = [
        ServerSentEvent(data: "{\"a\":1}"), ServerSentEvent(event: "message", data: "two\nlines"),
        ServerSentEvent(data: "no-space", id: "7"), ServerSentEvent(data: "ünïcödé ✓"), ServerSentEvent(data: "[DONE]"),
    ]

    @Test("comments, CRLF, CR, multi-line data, event names and other fields")
    func wholeStream() throws {
        #expect(try Self.parse([Array(Self.stream.utf8)]) == Self.expected)
    }

    @Test("every split into two chunks, at every byte, gives the same events (mid-line, mid-CRLF, mid-character)")
    func everySplit() throws {
        let bytes = Array(Self.stream.utf8)
        for cut in 0...bytes.count {
            #expect(try Self.parse([Array(bytes[..<cut]), Array(bytes[cut...])]) == Self.expected, "cut at \(cut)")
        }
    }

    @Test("one byte at a time gives the same events")
    func byteByByte() throws {
        #expect(try Self.parse(Array(Self.stream.utf8).map { [$0] }) == Self.expected)
    }

    @Test("an event without its blank line at the end of the stream is dropped")
    func unterminated() throws {
        #expect(try Self.parse([Array("data: one\n\ndata: tw".utf8)]) == [ServerSentEvent(data: "one")])
    }

    @Test("a line over the limit is a provider_invalid_response")
    func overlongLine() {
        var parser = ServerSentEventParser()
        let error = #expect(throws: ModelError.self) {
            _ = try parser.feed([UInt8](repeating: UInt8(ascii: "x"), count: ServerSentEventParser.maxLineBytes + 1))
        }
        #expect(error?.code == .invalidResponse)
    }
}
