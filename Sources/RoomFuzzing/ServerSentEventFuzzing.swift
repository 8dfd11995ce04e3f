import AIRooms

/// A model provider's `text/event-stream` body (`ServerSentEventParser`).
///
/// Invariant: the events do not depend on how the network splits the body. The body is fed
/// whole, in pieces of a size taken from its first byte (1 to 8 bytes, so that `\r\n` falls
/// across pieces), and byte by byte: the three give the same events, or the same error.
enum ServerSentEventFuzzing {
    static func run(_ bytes: [UInt8]) throws(FuzzFailure) {
        let whole = parse([bytes[...]])
        let size = Int(bytes.first ?? 0) % 8 + 1
        let pieces = stride(from: 0, to: bytes.count, by: size).map { bytes[$0..<min($0 + size, bytes.count)] }
        let inPieces = parse(pieces)
        let byteByByte = parse(bytes.indices.map { bytes[$0...$0] })
        try FuzzFailure.check(whole == inPieces, "pieces of \(size) bytes gave \(inPieces), the whole body \(whole)")
        try FuzzFailure.check(whole == byteByByte, "byte by byte gave \(byteByByte), the whole body \(whole)")
    }

    /// The events (or the error) `pieces` give, fed in turn.
    private static func parse(_ pieces: [ArraySlice<UInt8>]) -> Result<[ServerSentEvent], ModelError> {
        var parser = ServerSentEventParser()
        var events: [ServerSentEvent] = []
        do throws(ModelError) {
            for piece in pieces { events += try parser.feed(piece) }
        } catch {
            return .failure(error)
        }
        parser.finish()
        return .success(events)
    }
}
