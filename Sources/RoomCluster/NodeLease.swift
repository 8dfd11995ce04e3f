import Synchronization

/// What this node knows of its own lease, by its own clock: until when it may act as the owner of
/// its rooms.
///
/// PostgreSQL keeps the lease (`rooms_nodes.lease_expires_at`, set from the database's clock),
/// and other nodes take a room over only once that has passed. A renewal sent at local instant
/// `t` sets an expiry no earlier than `t + lease` on the database's clock, so the node treats
/// itself as leased until `t + lease - margin`, by a monotonic clock that the wall clock's jumps
/// do not move: it stops before the database could hand its rooms to anyone else. The margin
/// covers a commit that began just before the deadline and the two clocks' rates.
public final class NodeLease: Sendable {
    private let deadline = Mutex<(until: ContinuousClock.Instant?, ended: Bool)>((nil, false))
    /// The lease's length.
    public let duration: Duration
    /// How much earlier than the database this node gives up its lease.
    public let margin: Duration

    public init(duration: Duration) {
        self.duration = duration
        // A fifth of the lease, at most 2 s: 2 s of a 10 s lease, 200 ms of a 1 s lease.
        self.margin = min(duration / 5, .seconds(2))
    }

    /// Records a renewal (or the join) sent at `sentAt` and confirmed by the database.
    func renewed(sentAt: ContinuousClock.Instant) {
        let until = sentAt + duration - margin
        deadline.withLock { state in
            // A renewal that answers after the lease was given up does not bring it back: the
            // node has dropped its rooms and must join again as a new incarnation.
            guard !state.ended else { return }
            if state.until.map({ $0 < until }) ?? true { state.until = until }
        }
    }

    /// Ends the lease for good (it was lost, or the node left).
    func end() {
        deadline.withLock { $0 = (nil, true) }
    }

    /// Until when the node may act on its rooms, if it holds a lease.
    public var validUntil: ContinuousClock.Instant? {
        deadline.withLock { $0.until }
    }

    /// Whether the node may act on its rooms now.
    public var isValid: Bool {
        guard let until = validUntil else { return false }
        return ContinuousClock.now < until
    }
}
