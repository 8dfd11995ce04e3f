public import ChatRooms
import RoomRuntime

/// The options of the `ai-chat` class, beside `"class": "ai-chat"` in a kind's configuration:
/// every option of the `chat` class, plus the assistant's.
public struct AIChatOptions: Codable, Sendable, Equatable {
    /// The chat options (`maxTextBytes`, `maxHistoryLimit`, ...), at the same level as the others.
    public var chat: ChatOptions
    /// The model provider (default: the local one).
    public var provider: ProviderConfiguration
    /// The system prompt that opens every conversation sent to the model.
    public var systemPrompt: String
    /// The user name the assistant's messages carry (default `assistant`).
    public var assistantName: String
    /// The most recent messages sent as context, the prompt included (default 20).
    public var contextMessages: Int
    /// The most bytes of message text sent as context (default 16,384); older messages are left out.
    public var contextBytes: Int
    /// How many prompts may wait while the assistant answers another (default 4); more are refused
    /// with `ai_busy`.
    public var maxQueuedPrompts: Int
    /// How often a streaming answer's progress is committed, in milliseconds (default 500).
    public var checkpointMilliseconds: Int

    public static let defaultSystemPrompt =
        "You are a helpful assistant in a group chat. Each user message starts with its sender's name."

    public init(
        chat: ChatOptions = ChatOptions(), provider: ProviderConfiguration = .local(LocalModelProvider()),
        systemPrompt: String = Self.defaultSystemPrompt, assistantName: String = "assistant", contextMessages: Int = 20,
        contextBytes: Int = 16_384, maxQueuedPrompts: Int = 4, checkpointMilliseconds: Int = 500
    ) {
        self.chat = chat
        self.provider = provider
        self.systemPrompt = systemPrompt
        self.assistantName = assistantName
        self.contextMessages = contextMessages
        self.contextBytes = contextBytes
        self.maxQueuedPrompts = maxQueuedPrompts
        self.checkpointMilliseconds = checkpointMilliseconds
    }

    private enum CodingKeys: String, CodingKey {
        case provider, systemPrompt, assistantName, contextMessages, contextBytes, maxQueuedPrompts,
            checkpointMilliseconds
    }

    public init(from decoder: any Decoder) throws {
        let defaults = AIChatOptions()
        chat = try ChatOptions(from: decoder)
        let container = try decoder.container(keyedBy: CodingKeys.self)
        provider = try container.decodeIfPresent(ProviderConfiguration.self, forKey: .provider) ?? defaults.provider
        systemPrompt = try container.decodeIfPresent(String.self, forKey: .systemPrompt) ?? defaults.systemPrompt
        assistantName = try container.decodeIfPresent(String.self, forKey: .assistantName) ?? defaults.assistantName
        guard !assistantName.isEmpty, assistantName.utf8.count <= 128 else {
            throw DecodingError.dataCorruptedError(
                forKey: .assistantName, in: container, debugDescription: "must be 1 to 128 bytes")
        }
        contextMessages = try container.decodeOption(.contextMessages, default: defaults.contextMessages, in: 1...1_000)
        contextBytes = try container.decodeOption(.contextBytes, default: defaults.contextBytes, in: 1...10_000_000)
        maxQueuedPrompts = try container.decodeOption(.maxQueuedPrompts, default: defaults.maxQueuedPrompts, in: 0...1_000)
        checkpointMilliseconds = try container.decodeOption(
            .checkpointMilliseconds, default: defaults.checkpointMilliseconds, in: 10...60_000)
    }

    public func encode(to encoder: any Encoder) throws {
        try chat.encode(to: encoder)
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(provider, forKey: .provider)
        try container.encode(systemPrompt, forKey: .systemPrompt)
        try container.encode(assistantName, forKey: .assistantName)
        try container.encode(contextMessages, forKey: .contextMessages)
        try container.encode(contextBytes, forKey: .contextBytes)
        try container.encode(maxQueuedPrompts, forKey: .maxQueuedPrompts)
        try container.encode(checkpointMilliseconds, forKey: .checkpointMilliseconds)
    }
}
