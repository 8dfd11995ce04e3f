/// One message of a conversation sent to a model.
public struct ModelMessage: Sendable, Equatable, Codable {
    /// Who speaks: `system`, `user` or `assistant` (the Chat Completions roles).
    public enum Role: String, Sendable, Codable {
        case system, user, assistant
    }

    public var role: Role
    public var content: String

    public init(role: Role, content: String) {
        self.role = role
        self.content = content
    }
}
