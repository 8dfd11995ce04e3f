import NIOCore
@_spi(Node) import RoomRuntime
import RoomServer

/// STOMP frames from a client (`StompFrameDecoder`).
///
/// Input: one byte choosing the negotiated version (0: before `CONNECT`, 1: 1.0, 2: 1.1,
/// 3: 1.2, modulo 4), then the WebSocket message. Invariants: a refusal carries one of the
/// codes the decoder documents; every frame read is within the body limit, and encoding it
/// (as the server encodes its own frames) then decoding that gives the same command, headers and
/// body back.
enum StompFuzzing {
    /// Small, so that the fuzzer reaches the limit.
    static let maxBodyBytes = 1_024

    static func run(_ bytes: [UInt8]) throws(FuzzFailure) {
        guard let first = bytes.first else { return }
        let version: StompVersion? = [nil, .v1_0, .v1_1, .v1_2][Int(first % 4)]
        let decoder = StompFrameDecoder(maxBodyBytes: maxBodyBytes, version: version)
        let (frames, failure) = decoder.decode(ByteBuffer(bytes: bytes.dropFirst()))
        if let failure {
            try ExpectedErrors.check(failure.error, in: ["invalid_frame", "invalid_header", "payload_too_large"], "decode")
        }
        for frame in frames {
            try FuzzFailure.check(frame.body.readableBytes <= maxBodyBytes, "a body over the limit was read")
            try roundTrip(frame, decoder: decoder)
        }
    }

    private static func roundTrip(_ frame: StompFrame, decoder: StompFrameDecoder) throws(FuzzFailure) {
        let version = decoder.version ?? .v1_0
        // A command ending in a carriage return (read from `SEND\r\r\n`) cannot be written back:
        // its line end would eat it; nor can such a header value, unless escaped (as 1.2 does
        // outside CONNECT, STOMP and CONNECTED).
        if frame.command.utf8.last == 0x0D { return }
        if version != .v1_2 || frame.hasRawHeaders, frame.headers.contains(where: { $0.value.utf8.last == 0x0D }) {
            return
        }
        // Escaping (`:` as `\c`) and the `content-length` the encoder adds can take a frame near
        // the header limits over them; such a frame is refused on the way back, as it should be.
        let headerBytes = frame.headers.reduce(frame.command.utf8.count) { $0 + 2 * ($1.name.utf8.count + $1.value.utf8.count) + 2 }
        guard frame.headers.count < StompFrameDecoder.maxHeaders - 1, headerBytes < StompFrameDecoder.maxHeaderBytes - 64
        else { return }
        let encoded = frame.encoded(version: version)
        let (again, failure) = decoder.decode(encoded)
        try FuzzFailure.check(
            failure == nil && again.count == 1,
            "a frame read back as \(again.count) frames, failure \(failure.map { "\($0.error)" } ?? "none")")
        let back = again[0]
        var headers = back.headers
        if frame.body.readableBytes > 0, frame["content-length"] == nil, headers.last?.name == "content-length" {
            headers.removeLast()
        }
        try FuzzFailure.check(back.command == frame.command, "command \(frame.command) read back as \(back.command)")
        try FuzzFailure.check(headers == frame.headers, "headers \(frame.headers) read back as \(headers)")
        try FuzzFailure.check(back.body == frame.body, "a body of \(frame.body.readableBytes) bytes changed on the way back")
    }
}
