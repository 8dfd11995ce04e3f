/// How to reach an OpenAI-compatible Chat Completions server (OpenAI, Ollama, llama.cpp's
/// server, vLLM, ...).
public struct OpenAIConfiguration: Sendable, Equatable {
    /// The API's base URL, up to and including the version: `https://api.openai.com/v1`,
    /// `http://127.0.0.1:11434/v1`. Requests go to `{baseURL}/chat/completions`.
    public var baseURL: String
    /// The model to ask for.
    public var model: String
    /// The API key, read from the environment variable the configuration names; nil to send none.
    /// Never logged.
    public var apiKey: String?
    /// `max_tokens` for each answer; nil to leave it to the server.
    public var maxTokens: Int?
    /// `temperature`; nil to leave it to the server.
    public var temperature: Double?
    /// The longest wait for the answer to start, and between two pieces of it (default 60 s).
    public var timeout: Duration
    /// The longest a whole answer may take (default 10 minutes).
    public var totalTimeout: Duration
    /// The longest wait for a connection to the server, retries of refused or failed attempts
    /// included (default 3 s): a stopped server is reported as `provider_unreachable` after this.
    public var connectTimeout: Duration

    public init(
        baseURL: String, model: String, apiKey: String? = nil, maxTokens: Int? = nil, temperature: Double? = nil,
        timeout: Duration = .seconds(60), totalTimeout: Duration = .seconds(600), connectTimeout: Duration = .seconds(3)
    ) {
        self.baseURL = baseURL
        self.model = model
        self.apiKey = apiKey
        self.maxTokens = maxTokens
        self.temperature = temperature
        self.timeout = timeout
        self.totalTimeout = totalTimeout
        self.connectTimeout = connectTimeout
    }
}
