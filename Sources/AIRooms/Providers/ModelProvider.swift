/// A source of model completions: given a conversation, a stream of text deltas.
///
/// The stream yields the answer's text piece by piece, in order, and finishes when the answer is
/// complete. It throws a ``ModelError`` when the provider fails (its connection, its HTTP status,
/// an error it reports mid-stream, a timeout). Cancelling the consuming task, or dropping the
/// stream, stops the generation.
public protocol ModelProvider: Sendable {
    func stream(_ request: ModelRequest) -> AsyncThrowingStream<String, any Error>
}
