import ServiceLifecycle

/// Pings every WebSocket of the node once per interval, from one timer (see
/// ``SocketRegistry/heartbeat()``); a socket that has not answered the previous ping by then is
/// closed with 1001.
struct SocketHeartbeat: Service {
    let sockets: SocketRegistry
    let interval: Duration

    func run() async throws {
        try? await cancelWhenGracefulShutdown {
            while true {
                try await Task.sleep(for: interval)
                sockets.heartbeat()
            }
        }
    }
}
