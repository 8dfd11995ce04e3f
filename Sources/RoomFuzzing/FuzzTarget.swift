/// The fuzz targets: each feeds arbitrary bytes to one parser that faces the network (or the
/// operator's configuration file) and checks the invariants it must keep.
///
/// A target is a plain function, so the same inputs run in two ways: under libFuzzer (Fuzz/,
/// `Fuzz/run`), which looks for new inputs, and in the test suite (`FuzzCorpusTests`), which
/// replays every committed corpus and crash file through the uninstrumented build. A crash is a
/// trap (an overflow, an index out of range, a forced unwrap) inside the parser; a broken
/// invariant is a thrown ``FuzzFailure``, which the libFuzzer driver turns into a crash too.
public enum FuzzTarget: String, CaseIterable, Sendable {
    /// STOMP frames in one WebSocket message (`StompFrameDecoder`), round-tripped through the
    /// encoder. The first byte picks the negotiated version.
    case stomp
    /// A `text/event-stream` body (`ServerSentEventParser`), fed whole, in pieces and byte by byte.
    case sse
    /// A configuration file (`ServerConfiguration.parse`, `ConfigurationReader`, every built-in
    /// class's options).
    case configuration
    /// The top-level `type` and `seq` scan of a frame (`TopLevelFields`).
    case fields
    /// Token parsing: the `auth` frame, a whole token through `TokenVerifier.verify`, and a
    /// claims object through `TokenVerifier.check`.
    case token
    /// A request target: room paths, percent-decoded kinds and ids, query strings, STOMP
    /// destinations and `rooms` claim patterns.
    case path
    /// A client's text frame, decoded as every built-in room class decodes its frames.
    case frames
    /// A doc room's `op` frame: decoded, transformed against concurrent edits and applied.
    case document

    /// Runs the target on one input.
    ///
    /// - Throws: ``FuzzFailure`` when the input breaks an invariant.
    public func run(_ bytes: [UInt8]) throws(FuzzFailure) {
        switch self {
        case .stomp: try StompFuzzing.run(bytes)
        case .sse: try ServerSentEventFuzzing.run(bytes)
        case .configuration: try ConfigurationFuzzing.run(bytes)
        case .fields: try TopLevelFieldsFuzzing.run(bytes)
        case .token: try TokenFuzzing.run(bytes)
        case .path: try RoomPathFuzzing.run(bytes)
        case .frames: try ClientFrameFuzzing.run(bytes)
        case .document: try DocumentFuzzing.run(bytes)
        }
    }
}
