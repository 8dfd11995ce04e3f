import AIRooms
import Foundation
import NIOCore
@_spi(Node) import RoomRuntime
import TestSupport
import Testing

@testable import RoomServer

@Suite("Server-Sent Events format", .watched)
struct EventStreamFormatTests {
    /// What a standard parser (the AI rooms' one, not the encoder) reads back from `frame`.
    static func parsed(_ frame: OutboundFrame) throws -> [AIRooms.ServerSentEvent] {
        var parser = ServerSentEventParser()
        return try parser.feed(Array(EventStreamFormat.encode(frame).readableBytesView))
    }

    @Test("a frame is one event named by its type; a stored message's seq is its id; the data is the frame")
    func frames() throws {
        let message = #"{"type":"message","seq":42,"id":"c-1","user":"ann","text":"a \"seq\":7 quote, {nested} [x]","ts":1}"#
        #expect(try Self.parsed(.text(message)) == [.init(event: "message", data: message, id: "42")])
        // Only a message's seq is an id; members named alike inside nested values do not count.
        let receipt = #"{"type":"receipt","user":"bob","upTo":{"seq":9},"seq":3}"#
        #expect(try Self.parsed(.text(receipt)) == [.init(event: "receipt", data: receipt)])
        let nested = #"{"reply":{"type":"x","seq":5},"seq":6,"type":"message"}"#
        #expect(try Self.parsed(.text(nested)) == [.init(event: "message", data: nested, id: "6")])
        let welcome = #"{"type":"welcome","lastSeq":4}"#
        #expect(try Self.parsed(.text(welcome)) == [.init(event: "welcome", data: welcome)])
    }

    @Test("text with line breaks becomes several data lines that join back; binary is base64; garbage is still one event")
    func otherPayloads() throws {
        #expect(try Self.parsed(.text("one\ntwo\r\nthree\rfour")) == [.init(event: "message", data: "one\ntwo\nthree\nfour")])
        #expect(try Self.parsed(.binary(ByteBuffer(bytes: [0, 1, 2, 255]))) == [.init(event: "binary", data: "AAEC/w==")])
        let injected = "{\"type\":\"a\nid: 99\",\"seq\":1}"
        #expect(try Self.parsed(.text(injected)).map(\.event) == ["message"], "a type with a line break is not an event name")
        #expect(try Self.parsed(.text(injected)).map(\.id) == [nil])
        for garbage in ["", "{", "}", "[1,2", "\"", "{\"type\":", "{\"type\":\"a", "{\"seq\":-", "not json"] {
            let events = try Self.parsed(.text(garbage))
            #expect(events.count == 1, "\(garbage)")
            #expect(events.first?.data == garbage)
        }
    }

    @Test("the close event carries the close code and reason")
    func close() throws {
        var parser = ServerSentEventParser()
        let events = try parser.feed(Array(EventStreamFormat.close(code: .tryAgainLater, reason: "slow_consumer").readableBytesView))
        #expect(events.map(\.event) == ["close"])
        let object = try #require(try JSONSerialization.jsonObject(with: Data(events[0].data.utf8)) as? [String: Any])
        #expect(object["code"] as? Int == 1013)
        #expect(object["reason"] as? String == "slow_consumer")
    }
}
