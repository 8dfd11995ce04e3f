public import CoreMetrics
import Foundation
import GRDBSQLite

/// The runtime's metrics, reported through swift-metrics to whatever factory the node uses
/// (the server exports them in Prometheus text format at `/metrics`).
///
/// Counters and histograms are recorded as things happen; gauges (rooms in memory, open
/// databases, queue depths) are sampled by ``refresh(from:)`` when metrics are read.
@_spi(Node)
public final class RuntimeMetrics: Sendable {
    private let factory: any MetricsFactory
    let activations: CoreMetrics.Counter
    /// Rooms put in quarantine (their file could not be opened).
    let quarantined: CoreMetrics.Counter
    private let quarantinedNow: Gauge
    private let deepestMailbox: Gauge
    private let activeRooms: Gauge
    private let hibernatedRooms: Gauge
    private let openDatabases: Gauge
    private let warmDatabases: Gauge
    private let sqliteMemory: Gauge
    private let pendingAlarms: Gauge
    private let waitingActivations: Gauge
    private let scheduleLateness: CoreMetrics.Timer
    private let shardQueueDepth: [Gauge]
    private let turnDuration: [CoreMetrics.Timer]
    private let hibernations: [String: CoreMetrics.Counter]

    /// Metrics recorded through `factory` for a runtime of `shards` shards.
    public init(factory: any MetricsFactory, shards: Int) {
        self.factory = factory
        activations = Counter(label: "rooms_activations_total", factory: factory)
        quarantined = Counter(label: "rooms_quarantined_total", factory: factory)
        quarantinedNow = Gauge(label: "rooms_quarantined", factory: factory)
        deepestMailbox = Gauge(label: "rooms_mailbox_depth_max", factory: factory)
        activeRooms = Gauge(label: "rooms_active", factory: factory)
        hibernatedRooms = Gauge(label: "rooms_hibernated_with_connections", factory: factory)
        openDatabases = Gauge(label: "rooms_open_databases", factory: factory)
        warmDatabases = Gauge(label: "rooms_warm_databases", factory: factory)
        sqliteMemory = Gauge(label: "rooms_sqlite_memory_bytes", factory: factory)
        pendingAlarms = Gauge(label: "rooms_schedules_pending_rooms", factory: factory)
        waitingActivations = Gauge(label: "rooms_activations_waiting", factory: factory)
        scheduleLateness = Timer(
            label: "rooms_schedule_lateness_seconds", dimensions: [], preferredDisplayUnit: .seconds, factory: factory)
        shardQueueDepth = (0..<shards).map {
            Gauge(label: "rooms_shard_queue_depth", dimensions: [("shard", "\($0)")], factory: factory)
        }
        turnDuration = (0..<shards).map {
            Timer(
                label: "rooms_turn_duration_seconds", dimensions: [("shard", "\($0)")], preferredDisplayUnit: .seconds,
                factory: factory)
        }
        hibernations = Dictionary(
            uniqueKeysWithValues: ["idle", "capacity", "shutdown", "restart", "deleted"].map {
                ($0, Counter(label: "rooms_hibernations_total", dimensions: [("reason", $0)], factory: factory))
            })
    }

    func recordHibernation(_ reason: String) {
        hibernations[reason]?.increment()
    }

    func recordTurn(shard: Int, duration: Duration) {
        let (seconds, attoseconds) = duration.components
        turnDuration[shard].recordNanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }

    func recordScheduleLateness(milliseconds: Int64) {
        scheduleLateness.recordMilliseconds(max(0, milliseconds))
    }

    /// Samples the gauges from `runtime`'s current state.
    public func refresh(from runtime: RoomRuntime) {
        activeRooms.record(runtime.activeRooms.count)
        openDatabases.record(runtime.openDatabases.open)
        warmDatabases.record(runtime.warmDatabases.count)
        sqliteMemory.record(sqlite3_memory_used())
        quarantinedNow.record(runtime.quarantine.count)
        deepestMailbox.record(runtime.deepestMailbox)
        hibernatedRooms.record(runtime.hibernatedRoomsWithConnections)
        pendingAlarms.record(runtime.alarms.count)
        waitingActivations.record(runtime.activeRooms.waiting)
        for shard in runtime.router.shards {
            shardQueueDepth[shard.index].record(shard.pendingJobs)
        }
    }
}
