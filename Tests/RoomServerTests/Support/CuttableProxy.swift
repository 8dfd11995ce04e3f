#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import NIOCore
import NIOPosix
import Synchronization

/// A TCP proxy on loopback to a target port, for what a flaky network does to a client: it can
/// reset every open connection at once (``cut()``), refuse or hold new ones (``mode``), and
/// stall either direction of the open ones (``pause(_:)``). Its port stays when the target
/// changes (a server restarted on another port).
final class CuttableProxy: Sendable {
    enum Mode: Sendable {
        /// Connect to the target and forward both ways.
        case forward
        /// Reset a new connection at once.
        case refuse
        /// Accept a new connection and do nothing with it: a connect that never completes.
        case hold
    }

    /// A direction of the forwarded connections.
    enum Direction: Sendable {
        /// From the client to the target.
        case upstream
        /// From the target to the client.
        case downstream
    }

    private struct State {
        var target: Int
        var mode = Mode.forward
        var paused: Set<Direction> = []
        var channels: [ObjectIdentifier: any Channel] = [:]
        var cuts = 0
        var accepted = 0
    }

    private let state: Mutex<State>
    private let server: any Channel
    /// The port the proxy listens on.
    let port: Int

    private init(server: any Channel, port: Int, target: Int) {
        self.server = server
        self.port = port
        self.state = Mutex(State(target: target))
    }

    /// A proxy to `127.0.0.1:target`, listening on a free loopback port.
    static func start(to target: Int) async throws -> CuttableProxy {
        let serving = Mutex<CuttableProxy?>(nil)
        let server = try await LoopbackListener.start { child in
            // Set right after bind, before anyone knows the port; closed at once if not.
            guard let proxy = serving.withLock({ $0 }) else {
                try? await child.executeThenClose { _, _ in }
                return
            }
            await proxy.serve(child)
        }
        let proxy = CuttableProxy(server: server, port: server.localAddress?.port ?? 0, target: target)
        serving.withLock { $0 = proxy }
        return proxy
    }

    /// Where new connections go.
    var target: Int {
        get { state.withLock { $0.target } }
        set { state.withLock { $0.target = newValue } }
    }

    /// What happens to new connections.
    var mode: Mode {
        get { state.withLock { $0.mode } }
        set { state.withLock { $0.mode = newValue } }
    }

    /// How many times ``cut()`` ran.
    var cuts: Int { state.withLock { $0.cuts } }

    /// How many connections were accepted.
    var accepted: Int { state.withLock { $0.accepted } }

    /// Stops forwarding `direction` (bytes wait in the proxy) until ``resume(_:)``.
    func pause(_ direction: Direction) {
        state.withLock { _ = $0.paused.insert(direction) }
    }

    /// Forwards `direction` again, what waited first.
    func resume(_ direction: Direction) {
        state.withLock { _ = $0.paused.remove(direction) }
    }

    /// Resets every open connection, as a network that drops does (RST, not FIN).
    func cut() {
        let channels = state.withLock { state in
            state.cuts += 1
            defer { state.channels = [:] }
            return Array(state.channels.values)
        }
        for channel in channels { Self.reset(channel) }
    }

    /// Closes the listening socket and resets every connection.
    func stop() async {
        cut()
        try? await server.close()
    }

    private static func reset(_ channel: any Channel) {
        guard let provider = channel as? any SocketOptionProvider else {
            channel.close(promise: nil)
            return
        }
        provider.setSoLinger(linger(l_onoff: 1, l_linger: 0)).whenComplete { _ in channel.close(promise: nil) }
    }

    private func register(_ channel: any Channel) {
        state.withLock { $0.channels[ObjectIdentifier(channel)] = channel }
    }

    private func unregister(_ channel: any Channel) {
        state.withLock { $0.channels[ObjectIdentifier(channel)] = nil }
    }

    private func isPaused(_ direction: Direction) -> Bool {
        state.withLock { $0.paused.contains(direction) }
    }

    private func serve(_ child: NIOAsyncChannel<ByteBuffer, ByteBuffer>) async {
        let (mode, target) = state.withLock { state in
            state.accepted += 1
            return (state.mode, state.target)
        }
        register(child.channel)
        defer { unregister(child.channel) }
        // Every NIOAsyncChannel must be run by executeThenClose, whatever happens to it.
        try? await child.executeThenClose { clientIn, clientOut in
            switch mode {
            case .refuse:
                Self.reset(child.channel)
            case .hold:
                for try await _ in clientIn {}  // read and dropped, until cut
            case .forward:
                let upstream: NIOAsyncChannel<ByteBuffer, ByteBuffer>
                do {
                    upstream = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                        .connect(host: "127.0.0.1", port: target) { channel in
                            channel.eventLoop.makeCompletedFuture {
                                try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                            }
                        }
                } catch {
                    Self.reset(child.channel)
                    return
                }
                register(upstream.channel)
                defer { unregister(upstream.channel) }
                try await upstream.executeThenClose { targetIn, targetOut in
                    try await withThrowingTaskGroup(of: Void.self) { group in
                        group.addTask { try await self.pump(clientIn, to: targetOut, .upstream) }
                        group.addTask { try await self.pump(targetIn, to: clientOut, .downstream) }
                        // Either side ending ends both.
                        try await group.next()
                        group.cancelAll()
                    }
                }
            }
        }
    }

    private func pump(
        _ input: NIOAsyncChannelInboundStream<ByteBuffer>, to output: NIOAsyncChannelOutboundWriter<ByteBuffer>,
        _ direction: Direction
    ) async throws {
        for try await bytes in input {
            while isPaused(direction) { try await Task.sleep(for: .milliseconds(5)) }
            try await output.write(bytes)
        }
    }
}
