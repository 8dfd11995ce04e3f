import Foundation

/// The `provider` option of an AI kind:
/// `{"type": "local", "tokensPerSecond"?, "maxTokens"?, "stampTokens"?}` or
/// `{"type": "openai", "baseURL", "model", "apiKeyEnv"?, "maxTokens"?, "temperature"?,
///   "timeoutSeconds"?, "totalTimeoutSeconds"?, "connectTimeoutSeconds"?}`.
///
/// Unknown keys are refused. `apiKeyEnv` names the environment variable that holds the key: the
/// key itself never appears in configuration or logs, and a named variable that is not set is a
/// configuration error.
public enum ProviderConfiguration: Codable, Sendable, Equatable {
    case local(LocalModelProvider)
    case openai(OpenAIConfiguration, apiKeyEnv: String?)

    /// The provider this configuration describes.
    public func makeProvider() -> any ModelProvider {
        switch self {
        case .local(let provider): provider
        case .openai(let configuration, _): OpenAIProvider(configuration: configuration)
        }
    }

    private struct Key: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(_ string: String) { stringValue = string }
        init?(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    private static let localKeys = ["type", "tokensPerSecond", "maxTokens", "stampTokens"]
    private static let openAIKeys = [
        "type", "baseURL", "model", "apiKeyEnv", "maxTokens", "temperature", "timeoutSeconds", "totalTimeoutSeconds",
        "connectTimeoutSeconds",
    ]

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: Key.self)
        func fail(_ key: String, _ message: String) -> DecodingError {
            DecodingError.dataCorruptedError(forKey: Key(key), in: container, debugDescription: message)
        }
        let type = try container.decode(String.self, forKey: Key("type"))
        let known: [String]
        switch type {
        case "local": known = Self.localKeys
        case "openai": known = Self.openAIKeys
        default: throw fail("type", "must be \"local\" or \"openai\"")
        }
        if let unknown = container.allKeys.map(\.stringValue).sorted().first(where: { !known.contains($0) }) {
            throw fail(unknown, "unknown key; a \(type) provider takes \(known.joined(separator: ", "))")
        }
        func positive(_ key: String, default value: Double, max: Double) throws -> Double {
            let given = try container.decodeIfPresent(Double.self, forKey: Key(key)) ?? value
            guard given > 0, given <= max else { throw fail(key, "must be more than 0 and at most \(max)") }
            return given
        }
        let maxTokens = try container.decodeIfPresent(Int.self, forKey: Key("maxTokens"))
        if let maxTokens, !(1...1_000_000).contains(maxTokens) {
            throw fail("maxTokens", "must be from 1 to 1000000")
        }
        if type == "local" {
            let rate = try container.decodeIfPresent(Double.self, forKey: Key("tokensPerSecond")) ?? 20
            guard rate >= 0, rate <= 1_000_000 else { throw fail("tokensPerSecond", "must be from 0 to 1000000") }
            let stamp = try container.decodeIfPresent(Bool.self, forKey: Key("stampTokens")) ?? false
            self = .local(LocalModelProvider(tokensPerSecond: rate, maxTokens: maxTokens ?? 256, stampTokens: stamp))
            return
        }
        let baseURL = try container.decode(String.self, forKey: Key("baseURL"))
        guard let url = URL(string: baseURL), url.scheme == "http" || url.scheme == "https", url.host != nil else {
            throw fail("baseURL", "must be an http or https URL such as http://127.0.0.1:11434/v1")
        }
        let model = try container.decode(String.self, forKey: Key("model"))
        guard !model.isEmpty else { throw fail("model", "must not be empty") }
        let apiKeyEnv = try container.decodeIfPresent(String.self, forKey: Key("apiKeyEnv"))
        var apiKey: String?
        if let apiKeyEnv {
            guard let value = ProcessInfo.processInfo.environment[apiKeyEnv], !value.isEmpty else {
                throw fail("apiKeyEnv", "the environment variable '\(apiKeyEnv)' is not set")
            }
            apiKey = value
        }
        let temperature = try container.decodeIfPresent(Double.self, forKey: Key("temperature"))
        if let temperature, !(0...2).contains(temperature) { throw fail("temperature", "must be from 0 to 2") }
        let timeout = try positive("timeoutSeconds", default: 60, max: 3_600)
        let total = try positive("totalTimeoutSeconds", default: 600, max: 86_400)
        let connect = try positive("connectTimeoutSeconds", default: 3, max: 300)
        self = .openai(
            OpenAIConfiguration(
                baseURL: baseURL, model: model, apiKey: apiKey, maxTokens: maxTokens, temperature: temperature,
                timeout: .milliseconds(Int64(timeout * 1000)), totalTimeout: .milliseconds(Int64(total * 1000)),
                connectTimeout: .milliseconds(Int64(connect * 1000))),
            apiKeyEnv: apiKeyEnv)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: Key.self)
        switch self {
        case .local(let provider):
            try container.encode("local", forKey: Key("type"))
            try container.encode(provider.tokensPerSecond, forKey: Key("tokensPerSecond"))
            try container.encode(provider.maxTokens, forKey: Key("maxTokens"))
            try container.encode(provider.stampTokens, forKey: Key("stampTokens"))
        case .openai(let configuration, let apiKeyEnv):
            try container.encode("openai", forKey: Key("type"))
            try container.encode(configuration.baseURL, forKey: Key("baseURL"))
            try container.encode(configuration.model, forKey: Key("model"))
            try container.encodeIfPresent(apiKeyEnv, forKey: Key("apiKeyEnv"))
            try container.encodeIfPresent(configuration.maxTokens, forKey: Key("maxTokens"))
            try container.encodeIfPresent(configuration.temperature, forKey: Key("temperature"))
            try container.encode(Self.seconds(configuration.timeout), forKey: Key("timeoutSeconds"))
            try container.encode(Self.seconds(configuration.totalTimeout), forKey: Key("totalTimeoutSeconds"))
            try container.encode(Self.seconds(configuration.connectTimeout), forKey: Key("connectTimeoutSeconds"))
        }
    }

    /// `duration` in seconds, fractions included (the options take fractions, such as 0.5).
    private static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }
}
