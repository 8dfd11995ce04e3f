/// The options of the `chat` class, set beside `"class": "chat"` in a kind's configuration.
public struct ChatOptions: Codable, Sendable, Equatable {
    /// The longest message text, in UTF-8 bytes (default 4096).
    public var maxTextBytes: Int
    /// The most messages one history request returns (default 500).
    public var maxHistoryLimit: Int

    public init(maxTextBytes: Int = 4096, maxHistoryLimit: Int = 500) {
        self.maxTextBytes = maxTextBytes
        self.maxHistoryLimit = maxHistoryLimit
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let defaults = ChatOptions()
        maxTextBytes = try container.decodeIfPresent(Int.self, forKey: .maxTextBytes) ?? defaults.maxTextBytes
        maxHistoryLimit = try container.decodeIfPresent(Int.self, forKey: .maxHistoryLimit) ?? defaults.maxHistoryLimit
        guard maxTextBytes >= 1, maxTextBytes <= 1 << 20 else {
            throw DecodingError.dataCorruptedError(
                forKey: .maxTextBytes, in: container, debugDescription: "must be from 1 to 1048576")
        }
        guard maxHistoryLimit >= 1, maxHistoryLimit <= 10_000 else {
            throw DecodingError.dataCorruptedError(
                forKey: .maxHistoryLimit, in: container, debugDescription: "must be from 1 to 10000")
        }
    }
}
