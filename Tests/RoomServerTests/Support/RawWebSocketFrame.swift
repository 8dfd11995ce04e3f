import Foundation

/// A WebSocket frame read off a raw connection (RFC 6455 framing, no extensions).
struct RawWebSocketFrame: Sendable {
    static let continuation: UInt8 = 0x0
    static let text: UInt8 = 0x1
    static let binary: UInt8 = 0x2
    static let close: UInt8 = 0x8
    static let ping: UInt8 = 0x9
    static let pong: UInt8 = 0xA

    let opcode: UInt8
    let payload: [UInt8]

    /// The payload as UTF-8 text.
    var text: String { String(decoding: payload, as: UTF8.self) }

    /// A close frame's code.
    var closeCode: Int? { payload.count >= 2 ? Int(payload[0]) << 8 | Int(payload[1]) : nil }

    /// A close frame's reason.
    var closeReason: String { String(decoding: payload.dropFirst(2), as: UTF8.self) }

    /// The complete frames at the start of `bytes`, in order.
    static func parseAll(_ bytes: [UInt8]) -> [RawWebSocketFrame] {
        parse(bytes).frames
    }

    /// The complete frames at the start of `bytes`, and how many bytes they take.
    static func parse(_ bytes: [UInt8]) -> (frames: [RawWebSocketFrame], consumed: Int) {
        var frames: [RawWebSocketFrame] = []
        var index = 0
        while bytes.count - index >= 2 {
            let opcode = bytes[index] & 0x0F
            let masked = bytes[index + 1] & 0x80 != 0
            var length = Int(bytes[index + 1] & 0x7F)
            var cursor = index + 2
            if length == 126 {
                guard bytes.count >= cursor + 2 else { break }
                length = Int(bytes[cursor]) << 8 | Int(bytes[cursor + 1])
                cursor += 2
            } else if length == 127 {
                guard bytes.count >= cursor + 8 else { break }
                length = bytes[cursor..<(cursor + 8)].reduce(0) { $0 << 8 | Int($1) }
                cursor += 8
            }
            var mask: [UInt8] = []
            if masked {
                guard bytes.count >= cursor + 4 else { break }
                mask = Array(bytes[cursor..<(cursor + 4)])
                cursor += 4
            }
            guard bytes.count >= cursor + length else { break }
            var payload = Array(bytes[cursor..<(cursor + length)])
            if masked { for offset in payload.indices { payload[offset] ^= mask[offset % 4] } }
            frames.append(RawWebSocketFrame(opcode: opcode, payload: payload))
            index = cursor + length
        }
        return (frames, index)
    }

    /// A client's frame (masked as clients must send) of `opcode` carrying `payload` (at most
    /// 65,535 bytes); `fin` false for a fragment that more follow, `reserved` the RSV1-3 bits
    /// (0x70 for all three). `mask` is the masking key; a key of zeros (valid, since a server
    /// cannot tell) leaves the payload as it is, for floods made in bulk.
    static func client(
        _ opcode: UInt8, _ payload: [UInt8], fin: Bool = true, reserved: UInt8 = 0,
        mask: [UInt8] = [0x12, 0x34, 0x56, 0x78]
    ) -> [UInt8] {
        let length: [UInt8] =
            payload.count < 126
            ? [0x80 | UInt8(payload.count)] : [0x80 | 126, UInt8(payload.count >> 8), UInt8(payload.count & 0xFF)]
        let masked = mask == [0, 0, 0, 0] ? payload : payload.enumerated().map { $1 ^ mask[$0 % 4] }
        return [(fin ? 0x80 : 0) | reserved | opcode] + length + mask + masked
    }

    /// A client's close frame with `code`.
    static func clientClose(code: Int, reason: [UInt8] = []) -> [UInt8] {
        client(close, [UInt8(code >> 8), UInt8(code & 0xFF)] + reason)
    }
}
