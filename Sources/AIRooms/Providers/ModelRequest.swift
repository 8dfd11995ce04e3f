/// What a provider is asked to complete: a conversation, oldest message first.
public struct ModelRequest: Sendable, Equatable {
    /// The system prompt first, then the room's recent history.
    public var messages: [ModelMessage]

    public init(messages: [ModelMessage]) {
        self.messages = messages
    }
}
