public import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

/// The OpenAI-compatible provider: Chat Completions with `"stream": true`, read as server-sent
/// events, over async-http-client.
///
/// Failures become ``ModelError``s: `provider_unreachable` (no connection), `provider_http_error`
/// (a status other than 2xx, with the server's message), `provider_error` (an error object in the
/// stream), `provider_timeout` (nothing for ``OpenAIConfiguration/timeout``, or over the total),
/// `provider_disconnected` (the stream ended without `[DONE]` or a finish reason) and
/// `provider_invalid_response` (an event that is not a completion chunk).
///
/// A request lost with its connection before any of the response arrived (a keep-alive
/// connection the server had closed) is sent once more (``StaleConnectionRetry``); nothing is
/// sent again once the response has started.
public struct OpenAIProvider: ModelProvider, CustomStringConvertible {
    public let configuration: OpenAIConfiguration
    private let client: HTTPClient

    /// A provider for `configuration`.
    ///
    /// - Parameter client: the HTTP client to send requests with. By default, the one the process
    ///   shares between providers with the same ``OpenAIConfiguration/connectTimeout``
    ///   (``ProviderHTTPClients``). A client given here keeps its own timeouts and pool settings:
    ///   `connectTimeout` does not apply to it.
    public init(configuration: OpenAIConfiguration, client: HTTPClient? = nil) {
        self.configuration = configuration
        self.client = client ?? ProviderHTTPClients.client(connectTimeout: configuration.connectTimeout)
    }

    /// Describes the provider without its key.
    public var description: String {
        "OpenAIProvider(\(configuration.baseURL), model \(configuration.model), key \(configuration.apiKey == nil ? "none" : "set"))"
    }

    public func stream(_ request: ModelRequest) -> AsyncThrowingStream<String, any Error> {
        AsyncThrowingStream { continuation in
            let task = Task {
                do {
                    try await run(request) { continuation.yield($0) }
                    continuation.finish()
                } catch let error as ModelError {
                    continuation.finish(throwing: error)
                } catch is CancellationError {
                    continuation.finish()
                } catch {
                    continuation.finish(throwing: ModelError(.disconnected, "the stream failed: \(error)"))
                }
            }
            continuation.onTermination = { _ in task.cancel() }
        }
    }

    /// Sends the request and hands each text delta to `yield`, under the timeouts.
    private func run(_ request: ModelRequest, yield: @escaping @Sendable (String) -> Void) async throws {
        let lastProgress = LastProgress()
        let deadline = ContinuousClock.now + configuration.totalTimeout
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                try await streamAnswer(request) { delta in
                    lastProgress.note()
                    if let delta { yield(delta) }
                }
            }
            group.addTask {
                // The watchdog: nothing for `timeout`, or past the total deadline, ends the answer.
                while true {
                    let quietUntil = lastProgress.instant + configuration.timeout
                    let wakeAt = min(quietUntil, deadline)
                    if ContinuousClock.now >= wakeAt {
                        throw ModelError(
                            .timeout,
                            ContinuousClock.now >= deadline
                                ? "the answer took longer than \(configuration.totalTimeout)"
                                : "the provider sent nothing for \(configuration.timeout)")
                    }
                    try await Task.sleep(until: wakeAt)
                }
            }
            defer { group.cancelAll() }
            try await group.next()
        }
    }

    /// Streams one answer; `progress` is called for every piece of the body (with the text
    /// delta, if the piece completed one).
    private func streamAnswer(_ request: ModelRequest, progress: @Sendable (String?) -> Void) async throws {
        let response: HTTPClientResponse
        do {
            // `execute` returns as soon as the response head has arrived: retrying it never sends
            // again a request whose answer had started.
            let http = try httpRequest(for: request)
            response = try await StaleConnectionRetry.run {
                try await client.execute(http, deadline: .distantFuture)
            }
        } catch is CancellationError {
            throw CancellationError()
        } catch let error as HTTPClientError where error == .getConnectionFromPoolTimeout {
            throw ModelError(
                .unreachable,
                "no connection to \(configuration.baseURL) within \(configuration.connectTimeout): "
                    + "\(ProviderHTTPClients.maxConnectionsPerHost) answers already stream from it")
        } catch {
            throw ModelError(.unreachable, "cannot reach \(configuration.baseURL): \(error)")
        }
        guard (200..<300).contains(response.status.code) else {
            throw await httpError(response)
        }
        progress(nil)
        var parser = ServerSentEventParser()
        var finished = false
        do {
            for try await chunk in response.body {
                progress(nil)
                for event in try parser.feed(chunk.readableBytesView) {
                    if event.data == "[DONE]" { return }
                    if let delta = try Self.delta(in: event, finished: &finished) { progress(delta) }
                }
            }
        } catch let error as ModelError {
            throw error
        } catch is CancellationError {
            throw CancellationError()
        } catch {
            throw ModelError(.disconnected, "the connection to the provider dropped mid-answer: \(error)")
        }
        parser.finish()
        guard finished else {
            throw ModelError(.disconnected, "the provider's stream ended before the answer did")
        }
    }

    /// The text of one event; nil for an event without any. Sets `finished` on a finish reason.
    static func delta(in event: ServerSentEvent, finished: inout Bool) throws(ModelError) -> String? {
        let chunk: ChatCompletionChunk
        do {
            chunk = try JSONDecoder().decode(ChatCompletionChunk.self, from: Data(event.data.utf8))
        } catch {
            throw ModelError(.invalidResponse, "an event is not a completion chunk: \(event.data.prefix(200))")
        }
        if let error = chunk.error {
            throw ModelError(.providerError, error.summary.isEmpty ? "the provider reported an error" : error.summary)
        }
        guard let choice = chunk.choices?.first else { return nil }
        if choice.finishReason != nil { finished = true }
        guard let content = choice.delta?.content, !content.isEmpty else { return nil }
        return content
    }

    private func httpRequest(for request: ModelRequest) throws -> HTTPClientRequest {
        let base = configuration.baseURL.hasSuffix("/") ? String(configuration.baseURL.dropLast()) : configuration.baseURL
        var http = HTTPClientRequest(url: base + "/chat/completions")
        http.method = .POST
        http.headers.add(name: "Content-Type", value: "application/json")
        http.headers.add(name: "Accept", value: "text/event-stream")
        if let key = configuration.apiKey {
            http.headers.add(name: "Authorization", value: "Bearer \(key)")
        }
        let body = ChatCompletionRequest(
            model: configuration.model, messages: request.messages, maxTokens: configuration.maxTokens,
            temperature: configuration.temperature)
        http.body = .bytes(ByteBuffer(bytes: try JSONEncoder().encode(body)))
        return http
    }

    /// The error for a response with a failing status, with the server's message when it gave one.
    private func httpError(_ response: HTTPClientResponse) async -> ModelError {
        let body = (try? await response.body.collect(upTo: 65_536)).map { String(buffer: $0) } ?? ""
        let message =
            (try? JSONDecoder().decode(ErrorBody.self, from: Data(body.utf8)))?.error?.summary
            ?? String(body.prefix(300))
        return ModelError(.httpError, "HTTP \(response.status.code)\(message.isEmpty ? "" : ": \(message)")")
    }
}
