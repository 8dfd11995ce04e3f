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
///
/// Refusals are logged at most once a second, with how many there were since the last line: a
/// flood of connections past the budget must not become a flood of log lines.
final class ConnectionBudget: Sendable {
    /// The most connections open at once.
    let limit: Int
    private let connections = Atomic<Int>(0)
    private let webSockets = Atomic<Int>(0)
    private let logger: Logger?
    /// When a refusal was last logged, and the refusals since that were not.
    private let refusals = Mutex<(logged: ContinuousClock.Instant?, unlogged: Int)>((nil, 0))

    init(limit: Int, logger: Logger? = nil) {
        self.limit = limit
        self.logger = logger
    }

    /// HTTP and WebSocket connections open now.
    var openConnections: Int { connections.load(ordering: .relaxed) }

    /// WebSockets open now: upgraded, and not yet closed (closing ones count until they close).
    var openWebSockets: Int { webSockets.load(ordering: .relaxed) }

    /// Counts `channel` until it closes and returns true, or returns false when the budget is spent.
    func admit(_ channel: any Channel) -> Bool {
        guard connections.wrappingAdd(1, ordering: .relaxed).newValue <= limit else {
            connections.wrappingSubtract(1, ordering: .relaxed)
            noteRefusal()
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

    /// Logs a refused connection, unless a refusal was logged less than a second ago; the next line
    /// then says how many were refused in between.
    private func noteRefusal() {
        let now = ContinuousClock.now
        let refused: Int? = refusals.withLock { state in
            state.unlogged += 1
            if let logged = state.logged, now - logged < .seconds(1) { return nil }
            defer { state = (now, 0) }
            return state.unlogged
        }
        guard let refused, let logger else { return }
        logger.warning(
            "refused \(refused) connection\(refused == 1 ? "" : "s") with 503 too_many_connections: \(limit) are open, as many as the descriptor limit leaves room for (logged at most once a second)"
        )
    }

    /// The process's descriptor limit (`ulimit -n`), or nil when it is unlimited or unknown.
    static func descriptorLimit() -> Int? {
        var limits = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limits) == 0, limits.rlim_cur < rlim_t(Int.max / 2) else {
            return nil
        }
        return Int(limits.rlim_cur)
    }

    /// `storage.maxOpenDatabases` fitted to the descriptor limit: room files (3 descriptors each in
    /// WAL mode) may take at most a third of it, so that sockets keep the larger part. A lowered
    /// budget is logged as a warning; the budget in force is logged at start either way.
    static func fittedOpenDatabases(_ configured: Int, logger: Logger) -> Int {
        guard let descriptors = descriptorLimit() else { return configured }
        let fitting = max(1, descriptors / 9)
        guard configured > fitting else {
            logger.info("descriptor limit \(descriptors): up to \(configured) open room files (storage.maxOpenDatabases)")
            return configured
        }
        logger.warning(
            "storage.maxOpenDatabases lowered from \(configured) to \(fitting) to fit the descriptor limit (ulimit -n \(descriptors)): room files take 3 descriptors each and at most a third of the limit; raise the limit to keep more rooms' files open"
        )
        return fitting
    }

    /// The budget the process's descriptor limit leaves once the room files have theirs.
    ///
    /// Reserved: the descriptors open now, 3 per event loop (one per core), 3 per room file the
    /// runtime may keep open (at most a third of the limit, so that connections keep the larger
    /// part; ``fittedOpenDatabases(_:logger:)`` keeps them there), and 32 for refusals in progress
    /// and files opened in passing. At least 16 connections are allowed. The budget is logged.
    static func fromDescriptorLimit(roomFiles: Int, logger: Logger) -> ConnectionBudget {
        guard let descriptors = descriptorLimit() else { return ConnectionBudget(limit: Int.max / 2, logger: logger) }
        let files = 3 * roomFiles
        let reserved = openDescriptors() + 3 * ProcessInfo.processInfo.activeProcessorCount + min(files, descriptors / 3) + 32
        let limit = max(16, descriptors - reserved)
        logger.info("descriptor limit \(descriptors): up to \(limit) connections open at once")
        return ConnectionBudget(limit: limit, logger: logger)
    }

    /// The descriptors the process holds now (from /proc/self/fd; 64 where there is none).
    private static func openDescriptors() -> Int {
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd") else { return 64 }
        return entries.count
    }
}
