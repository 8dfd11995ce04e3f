import NIOConcurrencyHelpers
@_spi(Node) import RoomRuntime
import Synchronization

/// The node's open WebSockets and Server-Sent Events streams, so that a shutdown can close each
/// with 1001 and wait for them.
final class SocketRegistry: Sendable {
    private struct State {
        var open: [ObjectIdentifier: any OpenConnection] = [:]
        var refusing = false
        /// Called once the registry is empty.
        var emptied: [@Sendable () -> Void] = []
    }

    private let state = Mutex(State())

    /// The number of open sockets.
    var count: Int { state.withLock { $0.open.count } }

    /// The number of open sockets whose close has started (for tests).
    var closing: Int { state.withLock { $0.open.values.filter(\.isClosing).count } }

    /// Records `connection`; false when the node is shutting down (it must close).
    func add(_ connection: any OpenConnection) -> Bool {
        state.withLock { state in
            guard !state.refusing else { return false }
            state.open[ObjectIdentifier(connection)] = connection
            return true
        }
    }

    func remove(_ connection: any OpenConnection) {
        let waiters: [@Sendable () -> Void] = state.withLock { state in
            state.open.removeValue(forKey: ObjectIdentifier(connection))
            guard state.open.isEmpty else { return [] }
            defer { state.emptied.removeAll() }
            return state.emptied
        }
        for waiter in waiters { waiter() }
    }

    /// Pings every open socket: one timer for the node rather than one per socket (see
    /// ``WebSocketHandler``). Each socket answers on its own event loop.
    func heartbeat() {
        let open = state.withLock { Array($0.open.values) }
        for connection in open { connection.heartbeat() }
    }

    /// Refuses new sockets and closes every open one with `code`.
    func closeAll(code: CloseCode, reason: String) {
        let open = state.withLock { state in
            state.refusing = true
            return Array(state.open.values)
        }
        for connection in open { connection.close(code: code, reason: reason) }
    }

    /// Returns true once every socket has closed, or false after `timeout` if some never did
    /// (each has its own close timeout, so that is a socket the node lost track of: a shutdown
    /// must not wait for it forever).
    func waitUntilEmpty(within timeout: Duration) async -> Bool {
        let waiting = NIOLockedValueBox<CheckedContinuation<Bool, Never>?>(nil)
        let finish: @Sendable (Bool) -> Void = { emptied in
            waiting.withLockedValue { continuation in
                continuation?.resume(returning: emptied)
                continuation = nil
            }
        }
        return await withCheckedContinuation { continuation in
            waiting.withLockedValue { $0 = continuation }
            let empty = state.withLock { state in
                if state.open.isEmpty { return true }
                state.emptied.append { finish(true) }
                return false
            }
            if empty {
                finish(true)
            } else {
                Task {
                    try? await Task.sleep(for: timeout)
                    finish(false)
                }
            }
        }
    }
}
