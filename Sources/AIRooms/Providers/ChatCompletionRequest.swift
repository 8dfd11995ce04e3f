/// The body of a streaming Chat Completions request.
struct ChatCompletionRequest: Encodable {
    let model: String
    let messages: [ModelMessage]
    let stream = true
    let maxTokens: Int?
    let temperature: Double?

    enum CodingKeys: String, CodingKey {
        case model, messages, stream, temperature
        case maxTokens = "max_tokens"
    }
}
