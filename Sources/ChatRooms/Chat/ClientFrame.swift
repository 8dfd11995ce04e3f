/// What a chat client sends: `{"type": "send", "text", "id"?}`.
struct ClientFrame: Decodable {
    /// The frame's type; only `send` exists so far.
    let type: String
    /// The client's id for the frame, echoed in its ack or error.
    let id: String?
    /// The message text (for `send`).
    let text: String?
}
