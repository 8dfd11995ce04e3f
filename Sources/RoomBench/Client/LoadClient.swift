import Foundation
import Histogram
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOWebSocket

/// The harness's connections: many per event-loop thread, never a thread per connection.
final class LoadClient: Sendable {
    let group: MultiThreadedEventLoopGroup
    let host: String
    let port: Int
    /// One stats object per event loop, recorded without locks on that loop.
    private let stats: [ObjectIdentifier: LoopStats]

    init(host: String, port: Int, threads: Int) {
        group = MultiThreadedEventLoopGroup(numberOfThreads: threads)
        self.host = host
        self.port = port
        var stats: [ObjectIdentifier: LoopStats] = [:]
        for loop in group.makeIterator() { stats[ObjectIdentifier(loop)] = LoopStats() }
        self.stats = stats
    }

    func shutdown() async {
        try? await group.shutdownGracefully()
    }

    func stats(for loop: any EventLoop) -> LoopStats {
        stats[ObjectIdentifier(loop)]!
    }

    /// Opens a WebSocket to `path` and returns its handler once upgraded.
    func connect(path: String, mode: LoadSocket.Mode) async throws -> LoadSocket {
        let loop = group.next()
        let socket = LoadSocket(stats: stats(for: loop), mode: mode)
        let host = host
        let upgraded = try await ClientBootstrap(group: loop)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .connect(host: host, port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    let upgrader = NIOTypedWebSocketClientUpgrader<Bool>(
                        maxFrameSize: LoadSocket.maxFrameSize, enableAutomaticErrorHandling: false
                    ) { channel, _ in
                        channel.eventLoop.makeCompletedFuture {
                            // The socket reads frames itself (see LoadSocket); the frame encoder
                            // stays, for its pongs and sends.
                            let pipeline = channel.pipeline.syncOperations
                            let decoder = try pipeline.handler(type: ByteToMessageHandler<WebSocketFrameDecoder>.self)
                            _ = pipeline.removeHandler(decoder)
                            try pipeline.addHandler(socket)
                            return true
                        }
                    }
                    var headers = HTTPHeaders()
                    headers.add(name: "Host", value: "\(host)")
                    headers.add(name: "Content-Length", value: "0")
                    let head = HTTPRequestHead(version: .http1_1, method: .GET, uri: path, headers: headers)
                    let configuration = NIOTypedHTTPClientUpgradeConfiguration<Bool>(
                        upgradeRequestHead: head, upgraders: [upgrader],
                        notUpgradingCompletionHandler: { channel in channel.eventLoop.makeSucceededFuture(false) })
                    return try channel.pipeline.syncOperations.configureUpgradableHTTPClientPipeline(
                        configuration: .init(upgradeConfiguration: configuration))
                }
            }
        guard try await upgraded.get() else { throw BenchError("the server refused the WebSocket upgrade of \(path)") }
        return socket
    }

    /// Opens a Server-Sent Events stream of `path` and returns once the server answered 200.
    func openEventStream(path: String) async throws -> any Channel {
        let loop = group.next()
        let opened = loop.makePromise(of: Void.self)
        let handler = LoadEventStream(stats: stats(for: loop), host: host, path: path, opened: opened)
        let channel = try await ClientBootstrap(group: loop)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(handler) }
            }
            .connect(host: host, port: port).get()
        try await opened.futureResult.get()
        return channel
    }

    /// Opens `count` event streams of the paths `path(i)`, `concurrency` at a time.
    func openEventStreams(_ count: Int, concurrency: Int = 64, path: @escaping @Sendable (Int) -> String) async throws
        -> [any Channel]
    {
        try await withThrowingTaskGroup(of: (any Channel).self) { tasks in
            var next = 0
            var channels: [any Channel] = []
            func start() {
                let index = next
                next += 1
                tasks.addTask { try await self.openEventStream(path: path(index)) }
            }
            while next < min(count, concurrency) { start() }
            while let channel = try await tasks.next() {
                channels.append(channel)
                if next < count { start() }
            }
            return channels
        }
    }

    /// Opens `count` sockets to the paths `path(i)`, `concurrency` at a time.
    func connect(
        _ count: Int, concurrency: Int = 64, mode: LoadSocket.Mode, path: @escaping @Sendable (Int) -> String
    ) async throws -> [LoadSocket] {
        var sockets = [LoadSocket?](repeating: nil, count: count)
        try await withThrowingTaskGroup(of: (Int, LoadSocket).self) { tasks in
            var next = 0
            func start() {
                let index = next
                next += 1
                tasks.addTask { (index, try await self.connect(path: path(index), mode: mode)) }
            }
            while next < min(count, concurrency) { start() }
            while let (index, socket) = try await tasks.next() {
                sockets[index] = socket
                if next < count { start() }
            }
        }
        return sockets.map { $0! }
    }

    /// Runs `body` on every event loop and waits.
    func onEveryLoop(_ body: @escaping @Sendable (LoopStats) -> Void) async throws {
        for loop in group.makeIterator() {
            let stats = stats(for: loop)
            try await loop.submit { body(stats) }.get()
        }
    }

    /// Opens the measurement window on every loop (resetting the counts), or closes it.
    func measure(_ on: Bool) async throws {
        try await onEveryLoop { stats in
            if on { stats.reset() }
            stats.measuring = on
        }
    }

    /// The loops' stats merged (after the window closed).
    func merged() async throws -> LoopStats {
        let total = LoopStats()
        for loop in group.makeIterator() {
            let stats = stats(for: loop)
            let copy = try await loop.submit {
                (stats.latency, stats.deliveries, stats.acknowledged, stats.sent, stats.errors)
            }.get()
            total.latency.add(copy.0)
            total.deliveries += copy.1
            total.acknowledged += copy.2
            total.sent += copy.3
            total.errors += copy.4
        }
        return total
    }
}
