import NIOCore
import NIOPosix

/// A TCP listener on a free loopback port that runs `serve` for every connection it accepts, each
/// in a task of its own, for the test servers that speak bytes (``CuttableProxy``,
/// ``ScriptedWebSocketServer``).
///
/// Not NIO's async `bind`: its stream of accepted connections drops one accepted while the listener
/// closes, and a `NIOAsyncChannel` dropped without being run traps the whole test process
/// ("Deinited NIOAsyncWriter without calling finish()", apple/swift-nio#2637; seen on CI). Here a
/// connection is wrapped and handed to its task in one step on its event loop, before it is
/// active, so every connection is run (and none of its bytes is read before its reader exists).
enum LoopbackListener {
    /// Listens; close the returned channel to stop. `serve` must run `executeThenClose`.
    static func start(
        _ serve: @escaping @Sendable (NIOAsyncChannel<ByteBuffer, ByteBuffer>) async -> Void
    ) async throws -> any Channel {
        try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { child in
                child.eventLoop.makeCompletedFuture {
                    let connection = try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: child)
                    Task { await serve(connection) }
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
    }
}
