import RoomRuntime

/// `{"type": "ai.start", "stream", "replyTo"}`: the assistant starts answering prompt `replyTo`.
struct AIStartFrame: Encodable {
    let type = "ai.start"
    let stream: String
    let replyTo: Int64
}

/// `{"type": "ai.delta", "stream", "index", "text"}`: the next piece of the answer; `index`
/// counts from 0 without gaps.
struct AIDeltaFrame {
    let stream: String
    let index: Int
    let text: String

    /// The frame, written without `JSONEncoder` (one per token, to everyone).
    var frame: OutboundFrame {
        .jsonObject(capacity: 64 + stream.utf8.count + text.utf8.count) { object in
            object.string("type", "ai.delta")
            object.string("stream", stream)
            object.integer("index", index)
            object.string("text", text)
        }
    }
}

/// `{"type": "ai.end", "stream", "seq", "status"}`: the answer ended and is stored as `seq`.
struct AIEndFrame: Encodable {
    let type = "ai.end"
    let stream: String
    let seq: Int64
    let status: String
}

/// `{"type": "ai.resume", "stream", "replyTo", "text", "index"}`: to a connection joining
/// mid-answer, after its welcome: everything so far; the next delta has `index`.
struct AIResumeFrame: Encodable {
    let type = "ai.resume"
    let stream: String
    let replyTo: Int64
    let text: String
    let index: Int
}

/// `{"type": "ai.error", "stream", "code", "message"}`: why the answer ended with `error`.
struct AIErrorFrame: Encodable {
    let type = "ai.error"
    let stream: String
    let code: String
    let message: String
}

/// `{"type": "ai.queued", "replyTo", "position"}`: a prompt waits behind the answer in progress
/// (`position` 1 is next).
struct AIQueuedFrame: Encodable {
    let type = "ai.queued"
    let replyTo: Int64
    let position: Int
}
