import Foundation
import Histogram
import NIOCore
import NIOHTTP1
import NIOPosix

/// `rooms bench soak`: a mixed workload held for `--duration` seconds, the server sampled every
/// `--sample-every` seconds, to show that memory, descriptors and open databases stay flat.
///
/// The workload, all at once:
/// - chat: `--rooms` rooms (default 50) of `--clients` clients (default 4) sending `--rate`
///   messages per second in all (default 200);
/// - fan-out: one room of 200 listeners, one sender at 10 msg/s (2,000 deliveries/s);
/// - hibernation churn: 2,000 rooms posted to in turn over HTTP, 50 posts/s, so that each is
///   woken every 40 s and hibernates in between (the spawned server's idle timeout is 5 s); one
///   post in 10 is scheduled (`deliverAt` 3 s on), so schedules fire and wake rooms too;
/// - AI: 5 AI rooms of 2 clients, one prompting again as soon as each answer ends.
enum SoakScenario {
    static let fanoutListeners = 200
    static let fanoutRate = 10.0
    static let churnRooms = 2_000
    static let churnPostsPerSecond = 50.0
    static let aiRooms = 5

    static func run(_ options: BenchOptions, target: BenchTarget, client: LoadClient) async throws -> BenchResult {
        let run = UUID().uuidString.prefix(8)
        let clients = max(1, options.clients)
        let chat = try await client.connect(options.rooms * clients, mode: .chat) { index in
            "/rooms/chat/soak\(run)-\(index / clients)/ws?user=u\(index % clients)"
        }
        _ = try await client.connect(fanoutListeners, mode: .chat) { "/rooms/chat/soakfan\(run)/ws?user=l\($0)" }
        let fanoutSender = try await client.connect(path: "/rooms/chat/soakfan\(run)/ws?user=sender", mode: .chat)
        let ai = try await client.connect(aiRooms * 2, mode: .ai) { "/rooms/ai/soakai\(run)-\($0 / 2)/ws?user=u\($0 % 2)" }
        let drivers = [
            SendDriver(senders: chat, rate: options.rate == .max ? .perSecond(200) : options.rate, size: options.size, window: 2),
            SendDriver(senders: [fanoutSender], rate: .perSecond(fanoutRate), size: options.size, window: 1),
            SendDriver(senders: stride(from: 0, to: ai.count, by: 2).map { ai[$0] }, rate: .max, size: options.size, window: 1),
        ]
        for driver in drivers { try await driver.start() }
        let churn = try await HTTPLoadConnection.connect(host: target.host, port: target.port, on: client.group.next())
        let stopped = StopFlag()
        startChurn(on: churn, run: String(run), stats: client.stats(for: churn.eventLoop), stopped: stopped)

        var samples: [SoakSample] = []
        var all = LoopStatsTotal()
        let started = ContinuousClock.now
        let interval = min(options.sampleEverySeconds, options.duration)
        while (ContinuousClock.now - started) / .seconds(1) < options.duration - 0.5 {
            let window = try await Measurement.window(client: client, target: target) {
                try await Task.sleep(for: .milliseconds(Int64(interval * 1000)))
            }
            let sample = target.sample()
            // A new connection each time: one idle for a minute outlives the server's HTTP idle timeout.
            let prober = try await HTTPLoadConnection.connect(host: target.host, port: target.port, on: client.group.next())
            defer { prober.close() }
            samples.append(
                SoakSample(
                    atSeconds: (ContinuousClock.now - started) / .seconds(1), rssBytes: sample?.rssBytes,
                    openDescriptors: target.pid.flatMap(Self.openDescriptors),
                    openDatabases: try? await HTTPScenarios.metric("rooms_open_databases", prober).map { Int($0) },
                    sqliteMemoryBytes: try? await HTTPScenarios.metric("rooms_sqlite_memory_bytes", prober).map { Int($0) },
                    activeRooms: try? await HTTPScenarios.metric("rooms_active", prober).map { Int($0) },
                    acknowledged: window.stats.acknowledged, deliveries: window.stats.deliveries,
                    p99Micros: window.stats.latency.valueAtPercentile(99), errors: window.stats.errors))
            all.add(window)
            let last = samples[samples.count - 1]
            FileHandle.standardError.write(Data(
                (String(
                    format: "soak: %5.0f s  RSS %.1f MiB  SQLite %.1f MiB  fds %d  open DBs %d  active rooms %d  %d acked  %d delivered  p99 %.1f ms  %d errors",
                    last.atSeconds, Double(last.rssBytes ?? 0) / 1_048_576, Double(last.sqliteMemoryBytes ?? 0) / 1_048_576,
                    last.openDescriptors ?? -1, last.openDatabases ?? -1, last.activeRooms ?? -1, last.acknowledged, last.deliveries,
                    Double(last.p99Micros) / 1000, last.errors) + "\n").utf8))
        }
        stopped.set()
        for driver in drivers { driver.stop() }
        churn.close()
        var result = BenchResult(
            scenario: .soak, config: options, target: target.name,
            messagesPerSecond: Double(all.acknowledged) / all.seconds,
            deliveriesPerSecond: Double(all.deliveries) / all.seconds, latencyMicros: all.latency,
            serverCpuPercent: nil, serverRssBytes: target.sample()?.peakRSSBytes, errors: all.errors, seconds: all.seconds,
            notes: [
                "mixed: \(options.rooms) chat rooms x \(clients) at \(options.rate == .max ? "200" : options.rate.description) msg/s, "
                    + "1 room x \(fanoutListeners) listeners at \(Int(fanoutRate)) msg/s, \(churnRooms) rooms woken in turn by "
                    + "\(Int(churnPostsPerSecond)) posts/s (1 in 10 scheduled 3 s on), \(aiRooms) AI rooms streaming; "
                    + "latency mixes chat, fan-out and AI deliveries"
            ])
        result.soak = SoakSummary(samples: samples)
        return result
    }

    /// Posts to the churn rooms in turn at ``churnPostsPerSecond``, one in ten scheduled.
    private static func startChurn(on connection: HTTPLoadConnection, run: String, stats: LoopStats, stopped: StopFlag) {
        let loop = connection.eventLoop
        let next = Counter()
        loop.execute {
            @Sendable func post() {
                guard !stopped.isSet else { return }
                let started = NIODeadline.now()
                let index = next.take()
                let schedule = index % 10 == 9 ? #","deliverAt":\#(Int(Date().timeIntervalSince1970 * 1000) + 3000)"# : ""
                connection.request(
                    .POST, "/rooms/chat/churn\(run)-\(index % churnRooms)/messages",
                    body: #"{"user":"churn","text":"x"\#(schedule)}"#
                ).whenComplete { result in
                    switch result {
                    case .success(201), .success(202): if stats.measuring { stats.acknowledged += 1 }
                    default: if stats.measuring { stats.errors += 1 }
                    }
                    loop.scheduleTask(deadline: started + .nanoseconds(Int64(1e9 / churnPostsPerSecond))) { post() }
                }
            }
            post()
        }
    }

    /// How many descriptors process `pid` has open.
    private static func openDescriptors(_ pid: Int32) -> Int? {
        (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd"))?.count
    }
}

/// The sum of a soak's intervals.
private struct LoopStatsTotal {
    var acknowledged = 0
    var deliveries = 0
    var errors = 0
    var seconds = 0.0
    private var histogram = LoopStats().latency

    var latency: LatencySummary { LatencySummary(histogram) }

    mutating func add(_ window: Measurement) {
        acknowledged += window.stats.acknowledged
        deliveries += window.stats.deliveries
        errors += window.stats.errors
        seconds += window.seconds
        histogram.add(window.stats.latency)
    }
}
