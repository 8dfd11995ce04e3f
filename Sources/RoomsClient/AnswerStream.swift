/// An AI answer as it streams into the room (AI chat kinds), built from `ai.start`, `ai.delta`,
/// `ai.end`, `ai.error` and `ai.resume` frames. A client that joins mid-answer starts from the
/// text so far (`ai.resume`).
public struct AnswerStream: Sendable, Hashable {
    /// The stream's id (`s-...`).
    public var stream: String
    /// The `seq` of the prompt it answers.
    public var replyTo: Int?
    /// The answer so far.
    public var text: String
    /// The index of the next `ai.delta` expected.
    public var index: Int
    /// The answer ended (`ai.end`).
    public var done: Bool
    /// How it ended: `complete`, `cancelled` or `error`.
    public var status: String?
    /// The `seq` the answer is stored as, once it ended.
    public var seq: Int?
    /// What went wrong (`ai.error`): `provider_unreachable`, `interrupted`, ...
    public var error: RoomsError?

    /// A stream that just started.
    public init(stream: String, replyTo: Int?) {
        self.stream = stream
        self.replyTo = replyTo
        self.text = ""
        self.index = 0
        self.done = false
    }
}
