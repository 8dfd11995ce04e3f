import Foundation
import Logging
@_spi(Node) import RoomCluster
@_spi(Node) import RoomRuntime
import ServiceLifecycle
import Synchronization

/// This node's place in the cluster (docs/CLUSTER.md): the control plane's connection pool, the
/// join before the server listens, the lease kept while it serves, and leaving once every room
/// has committed and closed its file.
///
/// It is the first service of the server's group, so the last to stop: when its graceful shutdown
/// comes, the runtime has finished, and it releases the node's rooms for the others to take at
/// once.
final class ClusterMembership: Service, Sendable {
    let plane: ControlPlane
    private let logger: Logger
    private let pool = Mutex<Task<Void, Never>?>(nil)
    /// The lease's keeper while the node serves, and whether the node left.
    private let keeping = Mutex<(keeper: Task<Void, Never>?, left: Bool)>((nil, false))
    private let leaseLost: @Sendable (ClusterError) -> Void
    /// The node's open connections, reported with every renewal.
    private let connections = Mutex<(@Sendable () -> Int)?>(nil)
    /// What wakes a room whose schedule is due while no live node owns it.
    private let wakeForAlarm = Mutex<(@Sendable (RoomAddress) -> Void)?>(nil)
    /// How often the cluster's directory is searched for such rooms.
    static let orphanSweepInterval: Duration = .seconds(1)

    /// The control plane for `settings`, its PostgreSQL URL read from `environment`.
    ///
    /// - Throws: ``ConfigurationError`` when the variable is unset or its URL unusable.
    init(
        settings: ClusterSettings, environment: [String: String], logger: Logger,
        leaseLost: @escaping @Sendable (ClusterError) -> Void
    ) throws {
        guard let url = environment[settings.postgresURLEnv], !url.isEmpty else {
            throw ConfigurationError(
                key: "cluster.postgresURLEnv", "the environment variable \(settings.postgresURLEnv) is not set")
        }
        let address: PostgresAddress
        do {
            address = try PostgresAddress(url: url)
        } catch {
            throw ConfigurationError(key: "cluster.postgresURLEnv", "\(settings.postgresURLEnv): \(error.message)")
        }
        var advertise = settings.advertise.absoluteString
        while advertise.hasSuffix("/") { advertise.removeLast() }
        var logger = logger
        logger[metadataKey: "component"] = "cluster"
        self.logger = logger
        self.leaseLost = leaseLost
        plane = ControlPlane(
            nodeID: settings.nodeID, advertise: advertise, leaseDuration: settings.lease, address: address,
            logger: logger)
    }

    /// Reports `count` (the node's open connections) with every renewal.
    func reportConnections(_ count: @escaping @Sendable () -> Int) {
        connections.withLock { $0 = count }
    }

    /// Wakes, with `wake`, each room with a schedule due that no live node owns (its owner stopped
    /// or crashed): the first node to wake it takes it.
    func wakeOrphanedAlarms(_ wake: @escaping @Sendable (RoomAddress) -> Void) {
        wakeForAlarm.withLock { $0 = wake }
    }

    /// Starts the connection pool and joins the cluster: before the server listens.
    ///
    /// - Throws: ``ClusterError`` (PostgreSQL unreachable, the node ID held by a live lease).
    func join() async throws(ClusterError) {
        let plane = plane
        pool.withLock { $0 = Task { await plane.run() } }
        try await plane.join()
        guard plane.lease.isValid else {
            // The join answered after the node's own deadline: PostgreSQL is too slow for this lease.
            throw ClusterError(.unreachable, "joining took longer than the lease allows; raise cluster.leaseSeconds")
        }
    }

    /// Keeps the lease until the server's graceful shutdown reaches this service, then leaves (if
    /// the shutdown gate has not already: see ``leave()``).
    func run() async throws {
        let plane = plane
        let logger = logger
        let leaseLost = leaseLost
        let count = connections.withLock { $0 }
        let keeper = Task { [self] in
            await plane.keepLease(connections: count) { error in
                // A lease ended by leaving is not lost.
                guard !self.keeping.withLock({ $0.left }) else { return }
                logger.critical(
                    "cluster: lease lost; this node stops at once so that no room has two owners",
                    metadata: ["error": "\(error)"])
                leaseLost(error)
            }
        }
        let left = keeping.withLock { state in
            if !state.left { state.keeper = keeper }
            return state.left
        }
        if left { keeper.cancel() }
        let sweeper = Task { [self] in await sweepOrphanedAlarms() }
        defer { sweeper.cancel() }
        do {
            try await gracefulShutdown()
            await leave()
        } catch {
            // Cancelled, not shut down gracefully: rooms may still be open, so they are not
            // released; they move once the lease lapses.
            keeping.withLock { $0.keeper?.cancel() }
        }
        pool.withLock { $0?.cancel() }
    }

    private func sweepOrphanedAlarms() async {
        guard let wake = wakeForAlarm.withLock({ $0 }) else { return }
        var woken: [RoomAddress: ContinuousClock.Instant] = [:]
        while !Task.isCancelled {
            do { try await Task.sleep(for: Self.orphanSweepInterval) } catch { return }
            guard plane.lease.isValid, !keeping.withLock({ $0.left }) else { continue }
            let now = ContinuousClock.now
            // A room just woken is given a few seconds to be taken before it is woken again.
            woken = woken.filter { now - $0.value < .seconds(5) }
            do {
                let due = try await plane.orphanedAlarms(dueBy: Int64(Date().timeIntervalSince1970 * 1000), limit: 100)
                for address in due where woken[address] == nil {
                    woken[address] = now
                    logger.info("cluster: waking a room whose schedule is due and whose node is gone", metadata: ["room": "\(address)"])
                    wake(address)
                }
            } catch {
                logger.warning("cluster: cannot look for schedules of rooms without a node", metadata: ["error": "\(error)"])
            }
        }
    }

    /// Stops renewing the lease, releases every room this node owns and ends its lease, so that
    /// other nodes take the rooms at once. Call it once every room has closed its file; a second
    /// call does nothing.
    func leave() async {
        let keeper = keeping.withLock { state -> Task<Void, Never>?? in
            guard !state.left else { return nil }
            state.left = true
            defer { state.keeper = nil }
            return .some(state.keeper)
        }
        guard let keeper else { return }
        // The lease ends with the leave: its keeper must not take that for a lost lease.
        keeper?.cancel()
        do {
            try await plane.leave()
        } catch {
            logger.error("cluster: could not leave; the node's rooms move once its lease lapses", metadata: ["error": "\(error)"])
        }
    }

    /// Stops the pool of a node that never ran (its start failed).
    func abandon() {
        pool.withLock { $0?.cancel() }
    }
}
