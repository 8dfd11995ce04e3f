public import RoomRuntime

/// What a chat client sends: `{"type": "send", "text", "id"?, "deliverAt"?}`, `{"type": "typing"}`
/// or `{"type": "read", "seq"}`.
///
/// The `id` is read first, so that every error about the rest of the frame can name it.
public struct ClientFrame: Decodable, Sendable {
    /// The frame's type: `send`, `typing` or `read`.
    public let type: String
    /// The client's id for the frame, echoed in its ack or error.
    public let id: String?
    /// The message text (for `send`).
    public let text: String?
    /// When to deliver the message, in milliseconds since 1970 (for a scheduled `send`).
    public let deliverAt: Int64?
    /// The last message read (for `read`).
    public let seq: Int64?

    private enum CodingKeys: String, CodingKey {
        case type, id, text, deliverAt, seq
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        id = try container.decodeIfPresent(String.self, forKey: .id)
        do {
            type = try container.decode(String.self, forKey: .type)
            text = try container.decodeIfPresent(String.self, forKey: .text)
            deliverAt = try container.decodeIfPresent(Int64.self, forKey: .deliverAt)
            seq = try container.decodeIfPresent(Int64.self, forKey: .seq)
        } catch {
            throw JSONFrameDecoding.roomError(for: error).answering(id)
        }
    }
}
