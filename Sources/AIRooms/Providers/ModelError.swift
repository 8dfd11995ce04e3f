/// Why a generation failed, as the `ai.error` frame reports it (`code`, `message`).
public struct ModelError: Error, Sendable, Equatable, CustomStringConvertible {
    public struct Code: RawRepresentable, Sendable, Hashable, ExpressibleByStringLiteral {
        public let rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        public init(stringLiteral value: String) { rawValue = value }

        /// The provider could not be reached (connection refused, DNS, TLS).
        public static let unreachable: Self = "provider_unreachable"
        /// The provider answered with an HTTP error status.
        public static let httpError: Self = "provider_http_error"
        /// The provider reported an error in the middle of its stream.
        public static let providerError: Self = "provider_error"
        /// The provider sent nothing for too long, or the answer took too long in all.
        public static let timeout: Self = "provider_timeout"
        /// The connection dropped before the stream's end.
        public static let disconnected: Self = "provider_disconnected"
        /// The provider sent something that is not the streaming format.
        public static let invalidResponse: Self = "provider_invalid_response"
        /// The room left memory (shutdown, eviction) while the answer streamed.
        public static let interrupted: Self = "interrupted"
    }

    public let code: Code
    public let message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(code.rawValue): \(message)" }
}
