import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle
import Synchronization

/// A real HTTP server in the test process that speaks the OpenAI Chat Completions streaming
/// format, with the hostility of real networks and real providers.
///
/// What it does depends on the last user message of the request:
/// - contains `#error`: two deltas, then an error object mid-stream;
/// - contains `#401`: HTTP 401 with an OpenAI-style error body;
/// - contains `#500close`: after ``closingErrorDelay``, HTTP 500 with an OpenAI-style error body, in
///   a keep-alive response (no `Connection: close`); then the server treats the connection as
///   closed: the next request that arrives on it is answered with a TCP reset and not a byte of a
///   response. That is what a client sees when it reuses a pooled connection that the server
///   closed after its error (as llama.cpp's server was seen to), only made deterministic: a real close
///   races with the client's next request;
/// - contains `#drop`: two deltas, then the connection is cut;
/// - contains `#resetmid`: two deltas, then the connection is reset (TCP RST);
/// - contains `#hang`: headers, then nothing for 8 seconds;
/// - contains `#slow`: ``slowDeltas`` deltas, one every ``slowInterval``; `#slower`:
///   ``slowerDeltas`` of them (for a test that must join while the answer still streams, on a
///   loaded machine);
/// - anything else: ``answer``, one event per delta, written in pieces that split events
///   mid-line and pack several events together, with comments, keep-alives and CRLF line ends.
final class FakeOpenAIServer: Sendable {
    /// The deltas of the default answer.
    static let answer = ["Hel", "lo", ", ", "wor", "ld", "! ", "Ünï", "cödé", " ✓", " done."]
    static let slowDeltas = 40
    static let slowerDeltas = 160
    static let slowInterval = Duration.milliseconds(50)
    /// How long `#500close` waits before its error, so that a prompt sent meanwhile queues behind it.
    static let closingErrorDelay = Duration.milliseconds(300)

    let port: Int
    /// The bodies of the requests received.
    let bodies = Mutex<[Data]>([])
    /// The `Authorization` headers received.
    let authorizations = Mutex<[String?]>([])
    /// How many requests were answered with a connection reset and not a byte (see `#500close`);
    /// they are in ``bodies`` too.
    let resets = Mutex(0)
    private let group: ServiceGroup
    private let running: Task<Void, any Error>

    var baseURL: String { "http://127.0.0.1:\(port)/v1" }

    /// The bodies of the requests received, decoded.
    var requests: [[String: Any]] {
        bodies.withLock { $0 }.map { (try? JSONSerialization.jsonObject(with: $0)) as? [String: Any] ?? [:] }
    }

    static func start() async throws -> FakeOpenAIServer {
        let (ports, portContinuation) = AsyncStream.makeStream(of: Int.self)
        let box = RequestLog()
        let router = Router(context: FakeOpenAIContext.self)
        router.post("/v1/chat/completions") { request, context -> Response in
            let body = try await request.body.collect(upTo: 1 << 20)
            let data = Data(body.readableBytesView)
            box.append(data, authorization: request.headers[.authorization])
            if box.takeClosed(context.channel) {
                try await reset(context.channel)
                box.countReset()
                throw TestFailure("the connection was reset on purpose")
            }
            let json = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] ?? [:]
            let messages = json["messages"] as? [[String: Any]] ?? []
            let prompt = messages.last { $0["role"] as? String == "user" }?["content"] as? String ?? ""
            if prompt.contains("#500close") {
                try await Task.sleep(for: closingErrorDelay)
                box.markClosed(context.channel)
            }
            return response(for: prompt, on: context.channel)
        }
        var logger = Logger(label: "fake-openai")
        logger.logLevel = .critical
        let app = Application(
            router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { channel in portContinuation.yield(channel.localAddress?.port ?? 0) },
            logger: logger)
        let group = ServiceGroup(services: [app], logger: logger)
        let running = Task { try await group.run() }
        var iterator = ports.makeAsyncIterator()
        guard let port = await iterator.next() else { throw TestFailure("the fake provider did not start") }
        let server = FakeOpenAIServer(port: port, group: group, running: running)
        box.server.withLock { $0 = server }
        return server
    }

    private init(port: Int, group: ServiceGroup, running: Task<Void, any Error>) {
        self.port = port
        self.group = group
        self.running = running
    }

    func stop() async throws {
        await group.triggerGracefulShutdown()
        try? await running.value
    }

    // MARK: - Answers

    static func event(_ delta: String?, finish: String? = nil) -> String {
        var choice: [String: Any] = ["index": 0, "delta": delta.map { ["content": $0] } ?? [:]]
        choice["finish_reason"] = finish ?? NSNull()
        let object: [String: Any] = ["id": "chatcmpl-1", "object": "chat.completion.chunk", "choices": [choice]]
        return "data: " + String(decoding: try! JSONSerialization.data(withJSONObject: object), as: UTF8.self)
    }

    /// The default answer as one event-stream text, with every kind of line the format allows.
    static var hostileStream: String {
        var text = ": keep-alive\n\n"
        text += event(nil) + "\r\n\r\n"  // a first chunk with an empty delta (role only, in real servers)
        for (index, delta) in answer.enumerated() {
            if index == 3 { text += ": ping\n\n" }
            if index == 5 { text += "event: message\n" }
            text += event(delta) + (index.isMultiple(of: 2) ? "\n\n" : "\r\n\r\n")
        }
        text += event(nil, finish: "stop") + "\n\n"
        text += "data: [DONE]\n\n"
        return text
    }

    /// Closes `channel` with a TCP reset: SO_LINGER 0 makes close() send RST instead of FIN.
    private static func reset(_ channel: any Channel) async throws {
        try await (channel as? any SocketOptionProvider)?.setSoLinger(linger(l_onoff: 1, l_linger: 0)).get()
        try await channel.close()
    }

    private static func response(for prompt: String, on channel: any Channel) -> Response {
        let headers: HTTPFields = [.contentType: "text/event-stream", .cacheControl: "no-cache"]
        if prompt.contains("#401") {
            return Response(
                status: .unauthorized, headers: [.contentType: "application/json"],
                body: .init(
                    byteBuffer: ByteBuffer(
                        string: #"{"error": {"message": "Incorrect API key provided", "type": "invalid_request_error", "code": "invalid_api_key"}}"#)))
        }
        if prompt.contains("#500close") {
            return Response(
                status: .internalServerError, headers: [.contentType: "application/json"],
                body: .init(
                    byteBuffer: ByteBuffer(
                        string: #"{"error": {"message": "The model crashed", "type": "server_error", "code": 500}}"#)))
        }
        return Response(
            status: .ok, headers: headers,
            body: ResponseBody { writer in
                if prompt.contains("#error") {
                    try await writer.write(ByteBuffer(string: event("par") + "\n\n" + event("tial") + "\n\n"))
                    try await Task.sleep(for: .milliseconds(20))
                    try await writer.write(
                        ByteBuffer(string: #"data: {"error": {"message": "The model is overloaded", "type": "server_error"}}"# + "\n\n"))
                    try await Task.sleep(for: .milliseconds(20))
                } else if prompt.contains("#drop") {
                    try await writer.write(ByteBuffer(string: event("cut") + "\n\n" + event(" short") + "\n\n"))
                    try await Task.sleep(for: .milliseconds(50))
                    throw TestFailure("the connection is cut on purpose")
                } else if prompt.contains("#resetmid") {
                    try await writer.write(ByteBuffer(string: event("cut") + "\n\n" + event(" short") + "\n\n"))
                    try await Task.sleep(for: .milliseconds(50))
                    try await reset(channel)
                    throw TestFailure("the connection is reset on purpose")
                } else if prompt.contains("#hang") {
                    try await Task.sleep(for: .seconds(8))
                } else if prompt.contains("#slow") {
                    for index in 0..<(prompt.contains("#slower") ? slowerDeltas : slowDeltas) {
                        try await writer.write(ByteBuffer(string: event("w\(index) ") + "\n\n"))
                        try await Task.sleep(for: slowInterval)
                    }
                    try await writer.write(ByteBuffer(string: event(nil, finish: "stop") + "\n\ndata: [DONE]\n\n"))
                } else {
                    let bytes = Array(hostileStream.utf8)
                    var offset = 0
                    var sizes = [1, 7, 3, 50, 2, 200, 11, 5].makeIterator()
                    while offset < bytes.count {
                        let size = sizes.next() ?? 13
                        let end = min(bytes.count, offset + size)
                        try await writer.write(ByteBuffer(bytes: bytes[offset..<end]))
                        offset = end
                        try await Task.sleep(for: .milliseconds(2))
                    }
                }
                try await writer.finish(nil)
            })
    }
}

/// Where the router's handler records requests before the server object exists, and which
/// connections it treats as closed.
private final class RequestLog: Sendable {
    let server = Mutex<FakeOpenAIServer?>(nil)
    /// The connections whose next request gets a reset.
    private let closed = Mutex<Set<ObjectIdentifier>>([])

    func append(_ body: Data, authorization: String?) {
        guard let server = server.withLock({ $0 }) else { return }
        server.bodies.withLock { $0.append(body) }
        server.authorizations.withLock { $0.append(authorization) }
    }

    func countReset() {
        server.withLock { $0 }?.resets.withLock { $0 += 1 }
    }

    /// Treats `channel` as closed from now on (forgotten when it really closes, so that a later
    /// channel at the same address starts alive).
    func markClosed(_ channel: any Channel) {
        let id = ObjectIdentifier(channel)
        closed.withLock { _ = $0.insert(id) }
        channel.closeFuture.whenComplete { [self] _ in closed.withLock { _ = $0.remove(id) } }
    }

    /// Whether `channel` is treated as closed; it is not any more after this.
    func takeClosed(_ channel: any Channel) -> Bool {
        closed.withLock { $0.remove(ObjectIdentifier(channel)) != nil }
    }
}
