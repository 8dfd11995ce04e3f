/// The parts of a Chat Completions streaming event that matter here: the delta's text, or an
/// error object (some servers report failures mid-stream that way).
struct ChatCompletionChunk: Decodable {
    struct Choice: Decodable {
        struct Delta: Decodable {
            let content: String?
        }

        let delta: Delta?
        let finishReason: String?

        enum CodingKeys: String, CodingKey {
            case delta
            case finishReason = "finish_reason"
        }
    }

    struct APIError: Decodable {
        let message: String?
        let type: String?
        let code: JSONCode?
    }

    /// An error `code`, which servers send as a string or a number.
    enum JSONCode: Decodable, CustomStringConvertible {
        case string(String)
        case number(Double)

        init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let string = try? container.decode(String.self) {
                self = .string(string)
            } else {
                self = .number(try container.decode(Double.self))
            }
        }

        var description: String {
            switch self {
            case .string(let string): string
            case .number(let number): number == number.rounded() ? "\(Int(number))" : "\(number)"
            }
        }
    }

    let choices: [Choice]?
    let error: APIError?
}

extension ChatCompletionChunk.APIError {
    /// A one-line account of the error.
    var summary: String {
        [message, type.map { "type \($0)" }, code.map { "code \($0)" }].compactMap { $0 }.joined(separator: "; ")
    }
}

/// The error body of a failed request: `{"error": {"message", "type", "code"}}`.
struct ErrorBody: Decodable {
    let error: ChatCompletionChunk.APIError?
}
