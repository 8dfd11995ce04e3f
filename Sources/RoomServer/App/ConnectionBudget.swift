import Foundation
import Logging
import NIOCore
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The node's open connections, counted from accept (or upgrade) to close, and how many it takes.
///
/// Every connection holds a file descriptor, and so does every open room file (3 in WAL mode).
/// Without a budget, sockets took every descriptor under a low `ulimit -n`: room files could no
/// longer open (their clients were closed with 1011), and the connections past the limit waited
/// in the kernel's accept queue, connected but never answered, where no gauge saw them. Past the
/// budget, a connection is now accepted and answered `503 too_many_connections`, then closed
/// (``HTTPRequestGuard``). Hummingbird's `MaximumAvailableConnections` is not used: it stops
/// accepting, which leaves clients in that queue.
final class ConnectionBudget: Sendable {
    /// The most connections open at once.
    let limit: Int
    private let connections = Atomic<Int>(0)
    private let webSockets = Atomic<Int>(0)

    init(limit: Int) {
        self.limit = limit
    }

    /// HTTP and WebSocket connections open now.
    var openConnections: Int { connections.load(ordering: .relaxed) }

    /// WebSockets open now: upgraded, and not yet closed (closing ones count until they close).
    var openWebSockets: Int { webSockets.load(ordering: .relaxed) }

    /// Counts `channel` until it closes and returns true, or returns false when the budget is spent.
    func admit(_ channel: any Channel) -> Bool {
        guard connections.wrappingAdd(1, ordering: .relaxed).newValue <= limit else {
            connections.wrappingSubtract(1, ordering: .relaxed)
            return false
        }
        channel.closeFuture.whenComplete { [self] _ in connections.wrappingSubtract(1, ordering: .relaxed) }
        return true
    }

    /// A WebSocket was upgraded; its handler calls ``webSocketClosed()`` once its connection closes.
    func webSocketOpened() {
        webSockets.wrappingAdd(1, ordering: .relaxed)
    }

    func webSocketClosed() {
        webSockets.wrappingSubtract(1, ordering: .relaxed)
    }

    /// The budget the process's descriptor limit leaves once the room files have theirs.
    ///
    /// Reserved: the descriptors open now, 3 per event loop (one per core), 3 per room file the
    /// runtime may keep open (at most a third of the limit, so that connections keep the larger
    /// part), and 32 for refusals in progress and files opened in passing. At least 16
    /// connections are allowed; a warning says when the limit is too low for the room files.
    static func fromDescriptorLimit(roomFiles: Int, logger: Logger) -> ConnectionBudget {
        var limits = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limits) == 0,
            limits.rlim_cur < rlim_t(Int.max / 2)
        else { return ConnectionBudget(limit: Int.max / 2) }
        let descriptors = Int(limits.rlim_cur)
        let files = 3 * roomFiles
        if files > descriptors / 3 {
            logger.warning(
                "the descriptor limit (ulimit -n \(descriptors)) is low for \(roomFiles) open room files (3 descriptors each): raise it, or lower storage.maxOpenDatabases"
            )
        }
        let reserved = openDescriptors() + 3 * ProcessInfo.processInfo.activeProcessorCount + min(files, descriptors / 3) + 32
        return ConnectionBudget(limit: max(16, descriptors - reserved))
    }

    /// The descriptors the process holds now (from /proc/self/fd; 64 where there is none).
    private static func openDescriptors() -> Int {
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd") else { return 64 }
        return entries.count
    }
}
