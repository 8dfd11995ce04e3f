import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle
import Synchronization

/// A real HTTP server in the test process that receives offline pushes: it records every request
/// (its delivery id, signature and body) and answers 503 to the first ``failures`` of them, then
/// 204.
final class PushReceiver: Sendable {
    struct Push: Sendable {
        let delivery: String?
        let signature: String?
        let contentType: String?
        let body: Data
        /// The status it was answered with.
        let status: Int

        var json: [String: Any] { (try? JSONSerialization.jsonObject(with: body)) as? [String: Any] ?? [:] }
    }

    /// The requests received, shared with the route.
    final class Log: Sendable {
        let pushes = Mutex<[Push]>([])
    }

    let port: Int
    private let received: Log
    private let group: ServiceGroup
    private let running: Task<Void, any Error>

    var url: String { "http://127.0.0.1:\(port)/push" }

    /// Every request received, in order.
    var pushes: [Push] { received.pushes.withLock { $0 } }
    /// The requests answered 2xx.
    var delivered: [Push] { pushes.filter { (200..<300).contains($0.status) } }

    /// Starts a receiver that fails the first `failures` requests with 503.
    static func start(failures: Int = 0) async throws -> PushReceiver {
        let (ports, portContinuation) = AsyncStream.makeStream(of: Int.self)
        let log = Log()
        let router = Router()
        router.post("/push") { request, _ -> Response in
            let body = try await request.body.collect(upTo: 1 << 20)
            let status = log.pushes.withLock { pushes in
                let status = pushes.count < failures ? 503 : 204
                pushes.append(
                    Push(
                        delivery: request.headers[HTTPField.Name("X-Rooms-Delivery")!],
                        signature: request.headers[HTTPField.Name("X-Rooms-Signature")!],
                        contentType: request.headers[.contentType], body: Data(body.readableBytesView), status: status))
                return status
            }
            return Response(status: .init(code: status))
        }
        var logger = Logger(label: "push-receiver")
        logger.logLevel = .critical
        let app = Application(
            router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { channel in portContinuation.yield(channel.localAddress?.port ?? 0) },
            logger: logger)
        let group = ServiceGroup(services: [app], logger: logger)
        let running = Task { try await group.run() }
        var iterator = ports.makeAsyncIterator()
        guard let port = await iterator.next() else { throw TestFailure("the push receiver did not start") }
        return PushReceiver(port: port, received: log, group: group, running: running)
    }

    private init(port: Int, received: Log, group: ServiceGroup, running: Task<Void, any Error>) {
        self.port = port
        self.received = received
        self.group = group
        self.running = running
    }

    func stop() async throws {
        await group.triggerGracefulShutdown()
        try? await running.value
    }
}
