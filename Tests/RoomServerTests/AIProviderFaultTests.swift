import AsyncHTTPClient
import Foundation
import HTTPTypes
import NIOCore
import RoomRuntime
import RoomServer
import Synchronization
import TestSupport
import Testing

@testable import AIRooms

/// Faults of OpenAI-compatible providers found against a real llama.cpp server: a stopped provider,
/// and a connection the provider closed after a failed answer.
@Suite("AI provider faults", .watched)
struct AIProviderFaultTests {
    /// A loopback port that nothing listens on, and the socket that holds it: bound but never
    /// listening, so that a connection to it is refused. Close the socket when done; until then no
    /// other server (another test's, started at the same time) can be given the port.
    static func refusedPort() throws -> (port: Int, socket: Int32) {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { throw TestFailure("socket() failed: errno \(errno)") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { socketAddress in
                bind(descriptor, socketAddress, length) == 0 && getsockname(descriptor, socketAddress, &length) == 0
            }
        }
        guard bound else {
            close(descriptor)
            throw TestFailure("bind() failed: errno \(errno)")
        }
        return (Int(UInt16(bigEndian: address.sin_port)), descriptor)
    }

    @Test("a provider that refuses connections is reported as provider_unreachable within seconds")
    func refusedConnection() async throws {
        let (port, held) = try Self.refusedPort()
        defer { close(held) }
        // A no-progress timeout far above the bound, so that only the connect deadline can answer
        // in time (before the fix: provider_timeout after it, or provider_unreachable after 90 s).
        let (server, provider) = try await AIChatTests.servers(extra: [
            "provider": .object([
                "type": .string("openai"), "baseURL": .string("http://127.0.0.1:\(port)/v1"),
                "model": .string("m"), "timeoutSeconds": .number(30),
            ])
        ])
        let ann = try await server.socket("/rooms/ai/refused/ws?user=ann")
        ann.send(json: ["type": "ai.prompt", "id": "p1", "text": "anyone there?"])
        try await ann.waitFor(1, "ack")
        let acked = ContinuousClock.now
        let error = try await ann.waitFor(1, "ai.error", timeout: .seconds(10))[0]
        let elapsed = ContinuousClock.now - acked
        #expect(error["code"] as? String == "provider_unreachable")
        #expect((error["message"] as? String ?? "").contains("127.0.0.1:\(port)"))
        #expect(elapsed < .seconds(5), "provider_unreachable came \(elapsed) after the ack")
        let end = try await ann.waitFor(1, "ai.end")[0]
        #expect(end["status"] as? String == "error")
        try await ann.close()
        try await server.stopAndRemove()
        try await provider.stop()
    }

    @Test("a prompt queued behind an answer whose connection the provider then closed is answered in full")
    func connectionClosedAfterError() async throws {
        let (server, provider) = try await AIChatTests.servers(maxQueuedPrompts: 1)
        let ann = try await server.socket("/rooms/ai/closed/ws?user=ann")
        ann.send(json: ["type": "ai.prompt", "id": "p1", "text": "please #500close"])
        ann.send(json: ["type": "ai.prompt", "id": "p2", "text": "and now properly"])
        let acks = try await ann.waitFor(2, "ack")
        let secondSeq = acks.first { $0["id"] as? String == "p2" }?["seq"] as? Int
        let ends = try await ann.waitFor(2, "ai.end")
        #expect(ends.map { $0["status"] as? String } == ["error", "complete"])
        let errors = ann.frames(ofType: "ai.error")
        #expect(errors.count == 1)
        #expect(errors.first?["code"] as? String == "provider_http_error")
        #expect((errors.first?["message"] as? String ?? "").contains("HTTP 500"))

        let history = try await server.http(.get, "/rooms/ai/closed/messages").json["messages"] as? [[String: Any]] ?? []
        let answer = history.first { $0["replyTo"] as? Int == secondSeq }
        #expect(secondSeq != nil)
        #expect(answer?["status"] as? String == "complete")
        #expect(answer?["text"] as? String == FakeOpenAIServer.answer.joined())
        // The second prompt went out twice: on the connection the provider had closed (reset),
        // then once more on a fresh connection.
        #expect(provider.resets.withLock { $0 } == 1)
        #expect(provider.requests.count == 3)
        try await ann.close()
        try await server.stopAndRemove()
        try await provider.stop()
    }

    // MARK: - The provider alone

    /// A one-prompt conversation.
    static func request(_ prompt: String) -> ModelRequest {
        ModelRequest(messages: [ModelMessage(role: .user, content: prompt)])
    }

    /// The text `stream` yields, and the error it ends with, if any.
    static func collect(_ stream: AsyncThrowingStream<String, any Error>) async -> (text: String, error: (any Error)?) {
        var text = ""
        do {
            for try await delta in stream { text += delta }
            return (text, nil)
        } catch {
            return (text, error)
        }
    }

    @Test("a reset before any response byte is retried once; the same reset after the response started is not")
    func retryOnlyBeforeTheResponse() async throws {
        let fake = try await FakeOpenAIServer.start()
        let provider = OpenAIProvider(
            configuration: OpenAIConfiguration(baseURL: fake.baseURL, model: "m", timeout: .seconds(5)))

        // The response had started (two deltas) when the connection was reset: one request only.
        let cut = await Self.collect(provider.stream(Self.request("#resetmid")))
        #expect(cut.text == "cut short")
        #expect((cut.error as? ModelError)?.code == .disconnected)
        #expect(fake.requests.count == 1)

        // An HTTP error on a connection the server then closes: the next request is reset on that
        // connection before any byte, and sent once more.
        let failed = await Self.collect(provider.stream(Self.request("#500close")))
        #expect((failed.error as? ModelError)?.code == .httpError)
        #expect(fake.requests.count == 2)
        let next = await Self.collect(provider.stream(Self.request("hello")))
        #expect(next.error == nil)
        #expect(next.text == FakeOpenAIServer.answer.joined())
        #expect(fake.resets.withLock { $0 } == 1)
        #expect(fake.requests.count == 4)
        try await fake.stop()
    }

    @Test("only a connection closed or reset by the peer counts as lost; a refused or timed-out one does not")
    func lostConnectionErrors() {
        #expect(StaleConnectionRetry.isLostConnection(HTTPClientError.remoteConnectionClosed))
        #expect(StaleConnectionRetry.isLostConnection(IOError(errnoCode: ECONNRESET, reason: "read(descriptor:pointer:size:)")))
        #expect(StaleConnectionRetry.isLostConnection(IOError(errnoCode: EPIPE, reason: "write")))
        #expect(!StaleConnectionRetry.isLostConnection(IOError(errnoCode: ECONNREFUSED, reason: "connect")))
        #expect(!StaleConnectionRetry.isLostConnection(HTTPClientError.connectTimeout))
        #expect(!StaleConnectionRetry.isLostConnection(HTTPClientError.getConnectionFromPoolTimeout))
        #expect(!StaleConnectionRetry.isLostConnection(HTTPClientError.readTimeout))
        #expect(!StaleConnectionRetry.isLostConnection(HTTPClientError.cancelled))
        #expect(!StaleConnectionRetry.isLostConnection(CancellationError()))
        #expect(!StaleConnectionRetry.isLostConnection(ModelError(.disconnected, "mid-answer")))
    }

    @Test(
        "a lost connection is tried once more, never twice; other failures are not retried",
        arguments: [
            (["reset"], 2, true),
            (["reset", "closed"], 2, false),
            (["refused"], 1, false),
            (["closed", "refused"], 2, false),
            ([], 1, true),
        ])
    func retryAttempts(failures: [String], attempts expected: Int, succeeds: Bool) async {
        let errors: [String: any Error] = [
            "reset": IOError(errnoCode: ECONNRESET, reason: "read"), "closed": HTTPClientError.remoteConnectionClosed,
            "refused": IOError(errnoCode: ECONNREFUSED, reason: "connect"),
        ]
        var attempts = 0
        var result: String?
        do {
            result = try await StaleConnectionRetry.run { () async throws -> String in
                attempts += 1
                if attempts <= failures.count, let error = errors[failures[attempts - 1]] { throw error }
                return "response"
            }
        } catch {}
        #expect(attempts == expected)
        #expect((result == "response") == succeeds)
    }

    @Test("more answers than async-http-client's default pool (8) stream at once from one provider")
    func manyAnswersAtOnce() async throws {
        let fake = try await FakeOpenAIServer.start()
        // A connect deadline shorter than an answer: an answer left waiting for a busy pool's
        // connection would fail.
        let provider = OpenAIProvider(
            configuration: OpenAIConfiguration(
                baseURL: fake.baseURL, model: "m", timeout: .seconds(5), connectTimeout: .seconds(1)))
        let results = await withTaskGroup(of: (text: String, error: (any Error)?).self) { group in
            for _ in 0..<12 { group.addTask { await Self.collect(provider.stream(Self.request("#slow"))) } }
            return await group.reduce(into: []) { $0.append($1) }
        }
        let slowText = (0..<FakeOpenAIServer.slowDeltas).map { "w\($0) " }.joined()
        #expect(results.count == 12)
        #expect(results.allSatisfy { $0.error == nil }, "\(results.compactMap { $0.error })")
        #expect(results.allSatisfy { $0.text == slowText })
        try await fake.stop()
    }

    @Test("providers with the same connect deadline share one HTTP client; another deadline gets its own")
    func sharedClients() {
        let first = ProviderHTTPClients.client(connectTimeout: .milliseconds(2_500))
        #expect(first === ProviderHTTPClients.client(connectTimeout: .milliseconds(2_500)))
        #expect(first !== ProviderHTTPClients.client(connectTimeout: .milliseconds(2_600)))
    }

    // MARK: - Configuration

    static func decode(_ json: String) throws -> ProviderConfiguration {
        try JSONDecoder().decode(ProviderConfiguration.self, from: Data(json.utf8))
    }

    @Test("connectTimeoutSeconds defaults to 3 s, takes fractions and survives encoding")
    func connectTimeoutOption() throws {
        let defaults = try Self.decode(#"{"type": "openai", "baseURL": "http://h/v1", "model": "m"}"#)
        guard case .openai(let configuration, _) = defaults else { throw TestFailure("not an openai provider") }
        #expect(configuration.connectTimeout == .seconds(3))
        let given = try Self.decode(
            #"{"type": "openai", "baseURL": "http://h/v1", "model": "m", "connectTimeoutSeconds": 0.5, "timeoutSeconds": 1.5}"#)
        guard case .openai(let half, _) = given else { throw TestFailure("not an openai provider") }
        #expect(half.connectTimeout == .milliseconds(500))
        #expect(try JSONDecoder().decode(ProviderConfiguration.self, from: JSONEncoder().encode(given)) == given)
    }

    @Test("connectTimeoutSeconds out of range is refused, naming the option", arguments: ["0", "-1", "300.5", "\"3\""])
    func connectTimeoutOutOfRange(value: String) {
        let json =
            #"{"kinds": {"ai": {"class": "ai-chat", "provider": {"type": "openai", "baseURL": "http://h/v1", "model": "m", "connectTimeoutSeconds": "#
            + value + "}}}}"
        let error = #expect(throws: (any Error).self) { try ConfigurationTests.parse(json) }
        #expect("\(error.map { "\($0)" } ?? "")".contains("connectTimeoutSeconds"), "\(error.map { "\($0)" } ?? "no error")")
    }
}
