package import NIOCore

/// One STOMP frame (STOMP 1.2, "STOMP Frames"): a command, its headers in order, and a body.
///
/// ```text
/// SEND
/// destination:/topic/rooms/chat/lobby
/// receipt:7
///
/// {"text":"hi"}^@
/// ```
package struct StompFrame: Sendable {
    package struct Header: Sendable, Equatable {
        package var name: String
        package var value: String
    }

    package var command: String
    package var headers: [Header]
    package var body: ByteBuffer

    package init(_ command: String, _ headers: [(String, String)] = [], body: ByteBuffer = ByteBuffer()) {
        self.command = command
        self.headers = headers.map { Header(name: $0.0, value: $0.1) }
        self.body = body
    }

    /// An `ERROR` frame: `message` is the error code, then `headers`, a plain-text content type
    /// and `explanation` as the body. STOMP closes the connection after it.
    static func error(_ code: String, _ headers: [(String, String)] = [], explanation: String) -> StompFrame {
        StompFrame(
            "ERROR", [("message", code)] + headers + [("content-type", "text/plain;charset=utf-8")],
            body: ByteBuffer(string: explanation))
    }

    /// The value of header `name`: its first occurrence, as STOMP says a repeated header counts.
    package subscript(name: String) -> String? {
        headers.first { $0.name == name }?.value
    }

    /// Whether STOMP leaves this frame's headers unescaped whatever the version.
    package var hasRawHeaders: Bool { Self.hasRawHeaders(command) }

    /// Whether STOMP leaves the headers of a `command` frame unescaped whatever the version: the
    /// frames that negotiate it.
    static func hasRawHeaders(_ command: String) -> Bool {
        command == "CONNECT" || command == "STOMP" || command == "CONNECTED"
    }

    /// The frame on the wire, its headers escaped as `version` asks, with `content-length` when
    /// it has a body.
    package func encoded(version: StompVersion) -> ByteBuffer {
        var buffer = ByteBuffer()
        buffer.reserveCapacity(command.utf8.count + body.readableBytes + headers.count * 32 + 24)
        buffer.writeString(command)
        buffer.writeInteger(UInt8(ascii: "\n"))
        let escape = version.escapesHeaders && !hasRawHeaders
        for header in headers {
            Self.writeHeader(header.name, header.value, escape: escape, version: version, to: &buffer)
        }
        if body.readableBytes > 0, self["content-length"] == nil {
            Self.writeHeader("content-length", String(body.readableBytes), escape: false, version: version, to: &buffer)
        }
        buffer.writeInteger(UInt8(ascii: "\n"))
        var body = body
        buffer.writeBuffer(&body)
        buffer.writeInteger(UInt8(0))
        return buffer
    }

    /// Writes `name:value` and its line end, escaping `\`, line breaks and `:` when asked
    /// (STOMP 1.2, "Value Encoding"; 1.1 has no `\r` escape, so a carriage return is left as is).
    static func writeHeader(_ name: String, _ value: String, escape: Bool, version: StompVersion, to buffer: inout ByteBuffer) {
        if escape {
            writeEscaped(name, version: version, to: &buffer)
            buffer.writeInteger(UInt8(ascii: ":"))
            writeEscaped(value, version: version, to: &buffer)
        } else {
            buffer.writeString(name)
            buffer.writeInteger(UInt8(ascii: ":"))
            buffer.writeString(value)
        }
        buffer.writeInteger(UInt8(ascii: "\n"))
    }

    private static func writeEscaped(_ text: String, version: StompVersion, to buffer: inout ByteBuffer) {
        guard text.utf8.contains(where: { $0 == 0x5C || $0 == 0x0A || $0 == 0x0D || $0 == 0x3A }) else {
            buffer.writeString(text)
            return
        }
        for byte in text.utf8 {
            switch byte {
            case 0x5C: buffer.writeStaticString("\\\\")
            case 0x0A: buffer.writeStaticString("\\n")
            case 0x3A: buffer.writeStaticString("\\c")
            case 0x0D where version == .v1_2: buffer.writeStaticString("\\r")
            default: buffer.writeInteger(byte)
            }
        }
    }
}
