import Foundation
import NIOCore
@_spi(Node) import RoomRuntime

/// One frame a WebSocket client would receive, written as a Server-Sent Event
/// (docs/PROTOCOL.md, "Server-Sent Events"):
///
/// ```text
/// event: message
/// id: 42
/// data: {"type":"message","seq":42,...}
///
/// ```
///
/// `event` is the frame's `type`, `data` its JSON on one line, and `id` the `seq` of a stored
/// message (`message` frames only), so that a browser's `EventSource` resumes from it with
/// `Last-Event-ID`. A binary frame (a relay room's) is `event: binary` with its bytes in base64.
enum EventStreamFormat {
    /// The comment a stream sends when it has been quiet for a while, so that proxies and the
    /// client see it alive.
    static let keepAlive = ByteBuffer(string: ": keep-alive\n\n")

    /// The stream's last event when the server ends it: `event: close` with
    /// `{"type": "close", "code": N, "reason": "..."}`, the code and reason a WebSocket would get in
    /// its close frame.
    static func close(code: CloseCode, reason: String) -> ByteBuffer {
        encode(
            OutboundFrame.jsonObject { object in
                object.string("type", "close")
                object.integer("code", Int(code.rawValue))
                object.string("reason", reason)
            })
    }

    /// The event for `frame`.
    static func encode(_ frame: OutboundFrame) -> ByteBuffer {
        var event = ByteBuffer()
        write(frame, to: &event)
        return event
    }

    /// Appends the event for `frame` to `event`.
    static func write(_ frame: OutboundFrame, to event: inout ByteBuffer) {
        let payload = frame.payload
        event.reserveCapacity(event.readableBytes + payload.readableBytes + 48)
        guard frame.opcode == .text else {
            event.writeString("event: binary\ndata: ")
            event.writeString(Data(payload.readableBytesView).base64EncodedString())
            event.writeString("\n\n")
            return
        }
        let fields = payload.withUnsafeReadableBytes { TopLevelFields(scanning: $0) }
        // A type that would break the event's line (a raw line break in a frame a room wrote by
        // hand) is not used: the event is then the default, `message`.
        let type = fields.type.flatMap { type in
            type.utf8.allSatisfy { $0 >= 0x20 && $0 != 0x7F } && !type.isEmpty ? type : nil
        }
        event.writeString("event: ")
        event.writeString(type ?? "message")
        event.writeString("\n")
        if type == "message", let seq = fields.seq {
            event.writeString("id: \(seq)\n")
        }
        // Frames are JSON on one line; any other text is split at its line breaks, one `data:`
        // line each (the client joins them with "\n").
        payload.withUnsafeReadableBytes { bytes in
            var start = 0
            var index = 0
            while index <= bytes.count {
                let byte = index < bytes.count ? bytes[index] : UInt8(ascii: "\n")
                if byte == UInt8(ascii: "\n") || byte == UInt8(ascii: "\r") {
                    event.writeString("data: ")
                    event.writeBytes(UnsafeRawBufferPointer(rebasing: bytes[start..<index]))
                    event.writeString("\n")
                    // "\r\n" is one break.
                    if byte == UInt8(ascii: "\r"), index + 1 < bytes.count, bytes[index + 1] == UInt8(ascii: "\n") {
                        index += 1
                    }
                    start = index + 1
                }
                index += 1
            }
        }
        event.writeString("\n")
    }
}
