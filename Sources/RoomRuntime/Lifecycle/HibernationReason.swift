/// Why a live room is asked to hibernate.
enum HibernationReason: Sendable, Equatable, CustomStringConvertible {
    /// Nothing happened for the idle timeout. Cancelled by the next event.
    case idle
    /// The active-room cap or the open-database budget needs its place.
    case capacity
    /// The node is stopping.
    case shutdown
    /// The room is being deleted: no hook runs, and it does not come back.
    case deleting

    /// Whether `self` replaces `other` as the reason: idle < capacity < shutdown < deleting.
    func outranks(_ other: HibernationReason?) -> Bool {
        guard let other else { return true }
        return rank > other.rank
    }

    private var rank: Int {
        switch self {
        case .idle: 0
        case .capacity: 1
        case .shutdown: 2
        case .deleting: 3
        }
    }

    /// The `reason` label of `rooms_hibernations_total`.
    var description: String {
        switch self {
        case .idle: "idle"
        case .capacity: "capacity"
        case .shutdown: "shutdown"
        case .deleting: "deleted"
        }
    }
}
