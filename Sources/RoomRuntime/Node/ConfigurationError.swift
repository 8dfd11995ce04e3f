/// A configuration that cannot be used: the offending key's path and what is wrong with it.
///
/// ```
/// runtime.idleTimeoutSeconds: must be positive
/// ```
public struct ConfigurationError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The path of the offending key (`runtime.idleTimeoutSeconds`, `kinds.chat.maxTextBytes`),
    /// when the error is about one key; nil when it is about the whole document.
    public let keyPath: String?
    /// What is wrong, without the key path.
    public let reason: String

    /// An error about the key at `keyPath`.
    public init(key keyPath: String, _ reason: String) {
        self.keyPath = keyPath
        self.reason = reason
    }

    /// An error about the whole configuration (the file cannot be read, it is not JSON).
    public init(_ reason: String) {
        self.keyPath = nil
        self.reason = reason
    }

    /// The same error about a key of a section at `prefix` (a kind's options, say).
    public func within(_ prefix: String) -> ConfigurationError {
        guard let keyPath else { return ConfigurationError(key: prefix, reason) }
        return ConfigurationError(key: keyPath.isEmpty ? prefix : "\(prefix).\(keyPath)", reason)
    }

    /// `key.path: reason`, or the reason alone.
    public var message: String {
        keyPath.map { "\($0): \(reason)" } ?? reason
    }

    public var description: String { message }
}
