import NIOCore
@_spi(Node) import RoomRuntime
import TestSupport
import Testing

@testable import RoomServer

@Suite("STOMP frames", .watched)
struct StompFrameTests {
    let decoder = StompFrameDecoder(maxBodyBytes: 1_024, version: .v1_2)

    @Test("one message may hold several frames and heart-beats; content-length lets a body hold NUL; the first of a repeated header counts")
    func several() {
        let message = "\n\r\nSEND\ndestination:/a\nx:1\nx:2\n\nhi\0\nSEND\r\ndestination:/b\r\ncontent-length:3\r\n\r\na\0b\0\n\n"
        let (frames, failure) = decoder.decode(ByteBuffer(string: message))
        #expect(failure == nil)
        #expect(frames.map(\.command) == ["SEND", "SEND"])
        #expect(frames[0]["x"] == "1" && frames[0]["destination"] == "/a" && String(buffer: frames[0].body) == "hi")
        #expect(frames[1]["destination"] == "/b" && Array(frames[1].body.readableBytesView) == [0x61, 0, 0x62])
        #expect(decoder.decode(ByteBuffer(string: "\n")).frames.isEmpty, "a heart-beat alone")
    }

    @Test("headers are escaped and unescaped as 1.2 says, not in CONNECT, CONNECTED or under 1.0")
    func escaping() {
        let frame = StompFrame("MESSAGE", [("destination", "/topic/rooms/chat/a:b\\c\nd\re")], body: ByteBuffer(string: "x"))
        let encoded = String(buffer: frame.encoded(version: .v1_2))
        #expect(encoded.hasPrefix("MESSAGE\ndestination:/topic/rooms/chat/a\\cb\\\\c\\nd\\re\ncontent-length:1\n\nx\0"), "\(encoded)")
        let decoded = decoder.decode(frame.encoded(version: .v1_2)).frames
        #expect(decoded.first?["destination"] == "/topic/rooms/chat/a:b\\c\nd\re")
        let connect = decoder.decode(ByteBuffer(string: "CONNECT\npasscode:a\\b\n\n\0")).frames
        #expect(connect.first?["passcode"] == "a\\b", "CONNECT is not unescaped")
        let old = StompFrameDecoder(maxBodyBytes: 1_024, version: .v1_0)
        #expect(old.decode(ByteBuffer(string: "SEND\nid:a\\tb\n\n\0")).frames.first?["id"] == "a\\tb", "1.0 has no escapes")
        let connected = String(buffer: StompFrame("CONNECTED", [("server", "a:b")]).encoded(version: .v1_2))
        #expect(connected == "CONNECTED\nserver:a:b\n\n\0")
    }

    @Test("what the decoder refuses, with the receipt of the frame when it was read")
    func refusals() {
        let cases: [(String, String, String?)] = [
            ("SEND\nreceipt:7\n\nno nul", "invalid_frame", "7"),
            ("SEND", "invalid_frame", nil),
            ("SEND\nbad\n\n\0", "invalid_frame", nil),
            ("SEND\nx:\\t\n\n\0", "invalid_frame", nil),
            ("SEND\nx:ends\\\n\n\0", "invalid_frame", nil),
            ("SEND\ncontent-length:-1\n\n\0", "invalid_header", nil),
            ("SEND\ncontent-length:5\nreceipt:r\n\nab\0", "invalid_frame", "r"),
            ("SEND\ncontent-length:1\n\nab\0", "invalid_frame", nil),
            ("SEND\ncontent-length:2000\n\n\0", "payload_too_large", nil),
            ("SEND\n\n" + String(repeating: "x", count: 1_025) + "\0", "payload_too_large", nil),
        ]
        for (text, code, receipt) in cases {
            let failure = decoder.decode(ByteBuffer(string: text)).failure
            #expect(failure?.error.code.rawValue == code, "\(text.debugDescription)")
            #expect(failure?.receipt == receipt, "\(text.debugDescription)")
        }
        let invalidUTF8 = decoder.decode(ByteBuffer(bytes: [0x53, 0xFF, 0x0A, 0x0A, 0x00])).failure
        #expect(invalidUTF8?.error.code == .invalidFrame)
    }

    @Test("accept-version picks the highest version both speak; none in common is nil; no header is 1.0")
    func versions() {
        #expect(StompVersion.negotiate("1.0,1.1,1.2") == .v1_2)
        #expect(StompVersion.negotiate("1.1, 1.0") == .v1_1)
        #expect(StompVersion.negotiate("2.0") == nil)
        #expect(StompVersion.negotiate(nil) == .v1_0)
    }
}
