/// A configuration that cannot be used, with a message naming the offending key.
public struct ConfigurationError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What is wrong, starting with the key's path (`runtime.idleTimeoutSeconds: ...`).
    public let message: String

    public init(_ message: String) {
        self.message = message
    }

    public var description: String { message }
}
