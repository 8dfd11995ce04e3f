public import NIOCore

/// Writes one flat JSON object straight into a buffer: the fast way to build a frame that every
/// message sends (Foundation's `JSONEncoder` costs several microseconds per frame).
///
/// ```swift
/// let frame = OutboundFrame.jsonObject { object in
///     object.string("type", "message")
///     object.integer("seq", seq)
///     object.string("text", text)
/// }
/// ```
///
/// Keys are written as given (use plain ASCII names); string values are escaped as JSON requires.
/// A nil value leaves its key out.
public struct JSONObjectWriter {
    var buffer: ByteBuffer
    private var empty = true

    init(capacity: Int) {
        buffer = ByteBuffer()
        buffer.reserveCapacity(capacity)
        buffer.writeInteger(UInt8(ascii: "{"))
    }

    public mutating func string(_ key: StaticString, _ value: String?) {
        guard let value else { return }
        self.key(key)
        buffer.writeInteger(UInt8(ascii: "\""))
        Self.escape(value, into: &buffer)
        buffer.writeInteger(UInt8(ascii: "\""))
    }

    public mutating func integer(_ key: StaticString, _ value: Int64?) {
        guard let value else { return }
        self.key(key)
        buffer.writeString(String(value))
    }

    public mutating func integer(_ key: StaticString, _ value: Int?) {
        integer(key, value.map(Int64.init))
    }

    public mutating func bool(_ key: StaticString, _ value: Bool?) {
        guard let value else { return }
        self.key(key)
        buffer.writeStaticString(value ? "true" : "false")
    }

    /// A string member whose key is only known at run time (escaped like a value).
    public mutating func string(key: String, _ value: String?) {
        guard let value else { return }
        self.key(key)
        buffer.writeInteger(UInt8(ascii: "\""))
        Self.escape(value, into: &buffer)
        buffer.writeInteger(UInt8(ascii: "\""))
    }

    /// An integer member whose key is only known at run time.
    public mutating func integer(key: String, _ value: Int64?) {
        guard let value else { return }
        self.key(key)
        buffer.writeString(String(value))
    }

    private mutating func key(_ key: String) {
        if !empty { buffer.writeInteger(UInt8(ascii: ",")) }
        empty = false
        buffer.writeInteger(UInt8(ascii: "\""))
        Self.escape(key, into: &buffer)
        buffer.writeStaticString("\":")
    }

    private mutating func key(_ key: StaticString) {
        if !empty { buffer.writeInteger(UInt8(ascii: ",")) }
        empty = false
        buffer.writeInteger(UInt8(ascii: "\""))
        buffer.writeStaticString(key)
        buffer.writeStaticString("\":")
    }

    private static let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)

    /// Writes `string` escaped for a JSON string: `"` and `\` and the control characters
    /// U+0000 to U+001F are escaped, everything else is copied as UTF-8.
    static func escape(_ string: String, into buffer: inout ByteBuffer) {
        var string = string
        string.withUTF8 { bytes in
            var start = 0
            for index in 0..<bytes.count {
                let byte = bytes[index]
                guard byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") else { continue }
                buffer.writeBytes(UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(bytes)[start..<index]))
                switch byte {
                case UInt8(ascii: "\""): buffer.writeStaticString("\\\"")
                case UInt8(ascii: "\\"): buffer.writeStaticString("\\\\")
                case 0x0A: buffer.writeStaticString("\\n")
                case 0x0D: buffer.writeStaticString("\\r")
                case 0x09: buffer.writeStaticString("\\t")
                default:
                    buffer.writeStaticString("\\u00")
                    buffer.writeInteger(hexDigits[Int(byte >> 4)])
                    buffer.writeInteger(hexDigits[Int(byte & 0x0F)])
                }
                start = index + 1
            }
            buffer.writeBytes(UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(bytes)[start..<bytes.count]))
        }
    }
}

extension OutboundFrame {
    /// A text frame holding the JSON object `build` writes (see ``JSONObjectWriter``).
    public static func jsonObject(capacity: Int = 128, _ build: (inout JSONObjectWriter) -> Void) -> OutboundFrame {
        var writer = JSONObjectWriter(capacity: capacity)
        build(&writer)
        writer.buffer.writeInteger(UInt8(ascii: "}"))
        return OutboundFrame(opcode: .text, payload: writer.buffer)
    }
}
