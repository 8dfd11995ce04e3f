public import Foundation
public import Logging
public import PostgresNIO
import Synchronization

/// The cluster's control plane: the nodes, their leases and who owns which room, kept in
/// PostgreSQL so that ownership moves only through its transactions.
///
/// A node ``join()``s (its row, its lease), ``renew()``s its lease every third of it (one
/// statement per node, however many rooms it owns: a room's ownership lasts as long as its
/// owner's lease), ``acquire(kind:id:)``s a room before activating it, and ``leave()``s when it
/// stops. A room is owned by the node that holds its row *and* a live lease; when the lease
/// lapses, the next node to acquire the room takes it over and its epoch goes up by one. Expiry is
/// judged by PostgreSQL's clock alone (`now()`), so nodes' clocks need not agree; each node keeps
/// its own, earlier, deadline in ``lease``.
///
/// Call ``run()`` (it runs postgres-nio's connection pool) for as long as the control plane is used.
public final class ControlPlane: Sendable {
    /// This run of the node.
    public let node: ClusterNode
    /// The node's lease as this node counts it.
    public let lease: NodeLease
    /// Takes rooms and answers lookups.
    let client: PostgresClient
    /// The lease's own connection: renewals never wait behind a burst of takeovers or lookups.
    private let leaseClient: PostgresClient
    let logger: Logger
    /// The rooms this incarnation took, with their epochs. Ownership leaves an incarnation only by
    /// its own release or when its lease lapses, so while the lease holds a wake of a room it owns
    /// asks PostgreSQL nothing.
    private let owned = Mutex<[RoomKey: Int64]>([:])

    private struct RoomKey: Hashable {
        var kind: String
        var id: String
    }

    /// A control plane for `node`, with leases of `leaseDuration`, in the database at `address`.
    /// - Parameter requestTimeout: how long one call to PostgreSQL may take before it is given up
    ///   (see ``database(_:_:)``); tests on a loaded machine give it longer.
    public init(
        nodeID: String, advertise: String, leaseDuration: Duration, address: PostgresAddress, logger: Logger,
        requestTimeout: Duration = ControlPlane.defaultRequestTimeout
    ) {
        self.requestTimeout = requestTimeout
        self.node = ClusterNode(id: nodeID, incarnation: Int64.random(in: 1...Int64.max), address: advertise)
        self.lease = NodeLease(duration: leaseDuration)
        self.logger = logger
        self.client = PostgresClient(configuration: address.clientConfiguration, backgroundLogger: logger)
        var leaseConfiguration = address.clientConfiguration
        leaseConfiguration.options.maximumConnections = 1
        leaseConfiguration.options.minimumConnections = 1
        self.leaseClient = PostgresClient(configuration: leaseConfiguration, backgroundLogger: logger)
    }

    /// Runs the connection pools until the task is cancelled (or the service group shuts down).
    public func run() async {
        await withDiscardingTaskGroup { group in
            group.addTask { await self.client.run() }
            group.addTask { await self.leaseClient.run() }
        }
    }

    private var leaseSeconds: Double {
        Double(lease.duration.components.seconds) + Double(lease.duration.components.attoseconds) / 1e18
    }

    /// Migrates the tables, then enters this incarnation in `rooms_nodes` with a fresh lease.
    ///
    /// When a live lease is held under the same ID (the previous run of this node, killed less than
    /// a lease ago, or a second process misconfigured with this ID), waits up to `wait` for it to
    /// lapse: its rooms are not this run's until then.
    ///
    /// - Throws: ``ClusterError``: `nodeIDInUse` if the lease is still held after `wait`,
    ///   `schemaTooNew`, or `unreachable`.
    public func join(waitingUpTo wait: Duration? = nil) async throws(ClusterError) {
        let wait = wait ?? lease.duration + .seconds(1)
        let giveUp = ContinuousClock.now + wait
        try await database("cannot migrate the control plane's tables") { [self] in
            try await ControlPlaneSchema.migrate(client, logger: logger)
        }
        while true {
            let sentAt = ContinuousClock.now
            let joined = try await database("cannot join the cluster") { [self] () async throws -> Bool in
                let rows = try await leaseClient.query(
                    """
                    INSERT INTO rooms_nodes (id, incarnation, address, lease_expires_at, draining, joined_at)
                    VALUES (\(node.id), \(node.incarnation), \(node.address), now() + make_interval(secs => \(leaseSeconds)), false, now())
                    ON CONFLICT (id) DO UPDATE SET incarnation = EXCLUDED.incarnation, address = EXCLUDED.address,
                        lease_expires_at = EXCLUDED.lease_expires_at, draining = false, joined_at = now()
                    WHERE rooms_nodes.lease_expires_at <= now()
                    RETURNING incarnation
                    """, logger: logger)
                var joined = false
                for try await _ in rows { joined = true }
                return joined
            }
            if joined {
                lease.renewed(sentAt: sentAt)
                logger.notice(
                    "cluster: joined", metadata: ["node": "\(node.id)", "incarnation": "\(node.incarnation)", "address": "\(node.address)"])
                return
            }
            guard ContinuousClock.now < giveUp else {
                throw ClusterError(
                    .nodeIDInUse,
                    "another process holds the lease of node '\(node.id)': is a second node configured with this nodeID?")
            }
            logger.info("cluster: waiting for the previous lease of this node ID to lapse", metadata: ["node": "\(node.id)"])
            try? await Task.sleep(for: min(.milliseconds(250), lease.duration / 4))
        }
    }

    /// Extends the lease by its full length from now, and answers whether the node is marked
    /// draining.
    ///
    /// - Throws: ``ClusterError`` `leaseLost` when the lease had already lapsed (the node was
    ///   paused, or cut off from PostgreSQL, for longer than a lease): the node must drop every
    ///   room, since others may own them now, and join again. `unreachable` when PostgreSQL did not
    ///   answer: the lease stands until ``lease``'s deadline; try again before it.
    /// `connections`, when given, is recorded as the node's open connections (`GET /cluster`).
    @discardableResult
    public func renew(connections: Int? = nil) async throws(ClusterError) -> Bool {
        let sentAt = ContinuousClock.now
        let draining = try await database("cannot renew the lease") { [self] () async throws -> Bool? in
            let rows = try await leaseClient.query(
                """
                UPDATE rooms_nodes SET lease_expires_at = now() + make_interval(secs => \(leaseSeconds)),
                    connections = coalesce(\(connections), connections)
                WHERE id = \(node.id) AND incarnation = \(node.incarnation) AND lease_expires_at > now()
                RETURNING draining
                """, logger: logger)
            var draining: Bool?
            for try await value in rows.decode(Bool.self) { draining = value }
            return draining
        }
        guard let draining else {
            lease.end()
            throw ClusterError(.leaseLost, "the lease of node '\(node.id)' lapsed before it was renewed")
        }
        lease.renewed(sentAt: sentAt)
        return draining
    }

    /// Takes `kind/id` for this node unless another live node owns it, and says who owns it.
    ///
    /// A room nobody owns, or whose owner's lease lapsed (or who released it), becomes this node's
    /// with its epoch raised by one (1 for a room never owned). A room this incarnation owns
    /// already keeps its epoch.
    ///
    /// - Throws: ``ClusterError``: `notJoined` when this node holds no live lease (or is draining),
    ///   `unreachable`.
    public func acquire(kind: String, id: String) async throws(ClusterError) -> RoomOwnership {
        let key = RoomKey(kind: kind, id: id)
        if lease.isValid, let epoch = owned.withLock({ $0[key] }) {
            return .mine(epoch: epoch)
        }
        for _ in 0..<3 {
            guard lease.isValid else {
                throw ClusterError(.notJoined, "node '\(node.id)' holds no lease: it cannot take rooms")
            }
            let taken = try await database("cannot take room \(kind)/\(id)") { [self] () async throws -> Int64? in
                try await client.withTransaction(logger: logger) { connection -> Int64? in
                    // The current owner's node row first (as leave() does): a renewal of it in flight
                    // commits before the decision below reads it, and one that comes later waits for
                    // the decision, and fails if the lease had lapsed. Without it, a renewal that
                    // committed after the takeover's snapshot would leave the old owner believing
                    // its lease holds (fencing would still refuse its commits).
                    try await connection.query(
                        """
                        SELECT 1 FROM rooms_nodes n JOIN rooms_owners o ON n.id = o.owner AND n.incarnation = o.owner_incarnation
                        WHERE o.kind = \(kind) AND o.id = \(id) FOR SHARE OF n
                        """, logger: logger)
                    let rows = try await connection.query(
                        """
                        INSERT INTO rooms_owners (kind, id, owner, owner_incarnation, epoch, acquired_at)
                        SELECT \(kind), \(id), \(node.id), \(node.incarnation), 1, now()
                        WHERE EXISTS (SELECT 1 FROM rooms_nodes WHERE id = \(node.id) AND incarnation = \(node.incarnation)
                            AND lease_expires_at > now() AND NOT draining)
                        ON CONFLICT (kind, id) DO UPDATE SET owner = EXCLUDED.owner, owner_incarnation = EXCLUDED.owner_incarnation,
                            epoch = rooms_owners.epoch + 1, acquired_at = now()
                        WHERE rooms_owners.owner IS NULL OR NOT EXISTS (
                            SELECT 1 FROM rooms_nodes n WHERE n.id = rooms_owners.owner AND n.incarnation = rooms_owners.owner_incarnation
                                AND n.lease_expires_at > now())
                        RETURNING epoch
                        """, logger: logger)
                    var epoch: Int64?
                    for try await value in rows.decode(Int64.self) { epoch = value }
                    return epoch
                }
            }
            if let taken {
                // Epoch 1: a room new to the cluster; later ones are takeovers (its node stopped,
                // released it, or lapsed), which operators want to see.
                if taken > 1 {
                    logger.notice("cluster: room taken over", metadata: ["room": "\(kind)/\(id)", "epoch": "\(taken)"])
                } else {
                    logger.debug("cluster: room taken", metadata: ["room": "\(kind)/\(id)", "epoch": "\(taken)"])
                }
                owned.withLock { $0[key] = taken }
                return .mine(epoch: taken)
            }
            if let owner = try await owner(kind: kind, id: id) {
                if case .mine(let epoch) = owner { owned.withLock { $0[key] = epoch } }
                return owner
            }
            // Its owner lapsed (or released it) between the two statements, or this node is not
            // live: again.
        }
        throw ClusterError(.notJoined, "node '\(node.id)' could not take room \(kind)/\(id): is its lease live?")
    }

    /// Who owns `kind/id` now, if a live node does.
    public func owner(kind: String, id: String) async throws(ClusterError) -> RoomOwnership? {
        try await database("cannot look up the owner of \(kind)/\(id)") { [self] () async throws -> RoomOwnership? in
            let rows = try await client.query(
                """
                SELECT o.owner, o.owner_incarnation, o.epoch, n.address
                FROM rooms_owners o JOIN rooms_nodes n ON n.id = o.owner AND n.incarnation = o.owner_incarnation
                WHERE o.kind = \(kind) AND o.id = \(id) AND n.lease_expires_at > now()
                """, logger: logger)
            var found: RoomOwnership?
            for try await (owner, incarnation, epoch, address) in rows.decode((String, Int64, Int64, String).self) {
                found =
                    owner == node.id && incarnation == node.incarnation
                    ? .mine(epoch: epoch) : .elsewhere(node: owner, address: address, epoch: epoch)
            }
            return found
        }
    }

    /// Gives `kind/id` up (after its room committed and closed its file): the next node to
    /// acquire it takes it over at once, with a new epoch.
    public func release(kind: String, id: String) async throws(ClusterError) {
        _ = owned.withLock { $0.removeValue(forKey: RoomKey(kind: kind, id: id)) }
        try await database("cannot release room \(kind)/\(id)") { [self] in
            try await client.query(
                """
                UPDATE rooms_owners SET owner = NULL, owner_incarnation = NULL
                WHERE kind = \(kind) AND id = \(id) AND owner = \(node.id) AND owner_incarnation = \(node.incarnation)
                """, logger: logger)
        }
    }

    /// Marks the node draining: it takes no room from now on, and others see it handing over.
    public func startDraining() async throws(ClusterError) {
        try await database("cannot mark the node draining") { [self] in
            try await client.query(
                "UPDATE rooms_nodes SET draining = true WHERE id = \(node.id) AND incarnation = \(node.incarnation)",
                logger: logger)
        }
    }

    /// Releases every room this incarnation owns and ends its lease, so that others take its rooms
    /// at once and a new run of this node may join without waiting. Call it once its rooms have
    /// committed and closed their files.
    public func leave() async throws(ClusterError) {
        lease.end()
        owned.withLock { $0.removeAll() }
        try await database("cannot leave the cluster") { [self] in
            try await leaseClient.withTransaction(logger: logger) { connection in
                // The node's row before its rooms' rows: the order a takeover locks them in.
                try await connection.query(
                    """
                    UPDATE rooms_nodes SET lease_expires_at = now(), draining = true
                    WHERE id = \(node.id) AND incarnation = \(node.incarnation)
                    """, logger: logger)
                try await connection.query(
                    """
                    UPDATE rooms_owners SET owner = NULL, owner_incarnation = NULL
                    WHERE owner = \(node.id) AND owner_incarnation = \(node.incarnation)
                    """, logger: logger)
            }
        }
        logger.notice("cluster: left", metadata: ["node": "\(node.id)", "incarnation": "\(node.incarnation)"])
    }

    /// The secret the nodes' links authenticate with (see `LinkToken` in RoomServer): 32 random
    /// bytes, written by the first node that asks and read by every other. Whoever can read the
    /// control plane's tables can act as a node.
    public func linkSecret() async throws(ClusterError) -> [UInt8] {
        // Hex on the wire: postgres-nio sends [UInt8] as "char"[], not bytea.
        let candidate = (0..<32).map { _ in String(format: "%02x", UInt8.random(in: .min ... .max)) }.joined()
        let hex = try await database("cannot read the cluster's link secret") { [self] () async throws -> String in
            try await client.query(
                "INSERT INTO rooms_cluster (id, link_secret) VALUES (1, decode(\(candidate), 'hex')) ON CONFLICT (id) DO NOTHING",
                logger: logger)
            for try await secret in try await client.query(
                "SELECT encode(link_secret, 'hex') FROM rooms_cluster WHERE id = 1", logger: logger
            ).decode(String.self) {
                return secret
            }
            throw ClusterError(.unreachable, "control plane: the cluster's link secret is missing")
        }
        var bytes: [UInt8] = []
        var index = hex.startIndex
        while let next = hex.index(index, offsetBy: 2, limitedBy: hex.endIndex), index < hex.endIndex {
            bytes.append(UInt8(hex[index..<next], radix: 16) ?? 0)
            index = next
        }
        return bytes
    }

    /// Every node in the table, live or not, with the rooms each incarnation owns.
    public func nodes() async throws(ClusterError) -> [NodeRecord] {
        try await database("cannot list the nodes") { [self] () async throws -> [NodeRecord] in
            let rows = try await client.query(
                """
                SELECT n.id, n.incarnation, n.address, n.lease_expires_at, n.lease_expires_at > now(), n.draining,
                    (SELECT count(*) FROM rooms_owners o WHERE o.owner = n.id AND o.owner_incarnation = n.incarnation),
                    n.connections
                FROM rooms_nodes n ORDER BY n.id
                """, logger: logger)
            var records: [NodeRecord] = []
            for try await (id, incarnation, address, expires, live, draining, rooms, connections) in rows.decode(
                (String, Int64, String, Date, Bool, Bool, Int64, Int32).self)
            {
                records.append(
                    NodeRecord(
                        id: id, incarnation: incarnation, address: address, leaseExpiresAt: expires, isLive: live,
                        isDraining: draining, rooms: Int(rooms), connections: Int(connections)))
            }
            return records
        }
    }

    /// How long one call to PostgreSQL may take (a connection included) before it is an error, unless
    /// the control plane was made with another.
    public static let defaultRequestTimeout: Duration = .seconds(10)
    let requestTimeout: Duration
    /// Runs `body`, turning PostgreSQL's errors into `unreachable` with `what` said, and giving up
    /// after `requestTimeout`: postgres-nio's pool retries a connection that fails for as long
    /// as a request waits for one, and a query written to a database that stopped answering is not
    /// cancellable. So the body runs in a task of its own, which is abandoned (not awaited) when
    /// the time is up.
    func database<T: Sendable>(
        _ what: String, _ body: @escaping @Sendable () async throws -> T
    ) async throws(ClusterError) -> T {
        let outcome = Mutex<CheckedContinuation<Result<T, any Error>, Never>?>(nil)
        let result = await withCheckedContinuation { (continuation: CheckedContinuation<Result<T, any Error>, Never>) in
            outcome.withLock { $0 = continuation }
            let finish: @Sendable (Result<T, any Error>) -> Void = { result in
                outcome.withLock { pending in
                    pending?.resume(returning: result)
                    pending = nil
                }
            }
            let timer = Task {
                do {
                    try await Task.sleep(for: requestTimeout)
                    finish(.failure(ClusterError(
                        .unreachable, "control plane: \(what): PostgreSQL did not answer within \(requestTimeout)")))
                } catch {}
            }
            Task {
                do {
                    finish(.success(try await body()))
                } catch {
                    finish(.failure(error))
                }
                timer.cancel()
            }
        }
        switch result {
        case .success(let value):
            return value
        case .failure(let error as ClusterError):
            throw error
        case .failure(let error):
            throw ClusterError(.unreachable, "control plane: \(what)", cause: error)
        }
    }
}
