import RoomRuntime

/// What an AI chat client sends, beside the chat frames: `{"type": "ai.prompt", "id"?, "text"}`
/// and `{"type": "ai.cancel", "stream"}`.
package struct AIClientFrame: Decodable {
    let type: String
    let id: String?
    let text: String?
    let stream: String?

    private enum CodingKeys: String, CodingKey {
        case type, id, text, stream
    }

    package init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        id = try? container.decodeIfPresent(String.self, forKey: .id)
        do {
            type = try container.decode(String.self, forKey: .type)
            text = try container.decodeIfPresent(String.self, forKey: .text)
            stream = try container.decodeIfPresent(String.self, forKey: .stream)
        } catch {
            throw JSONFrameDecoding.roomError(for: error).answering(id)
        }
    }
}
