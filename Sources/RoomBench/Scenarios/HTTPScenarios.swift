import Foundation
import Histogram
import NIOCore
import NIOHTTP1
import NIOPosix
import RoomRuntime

/// The scenarios driven over HTTP: `ingest`, `direct`, `activation`, and `idle` (sockets, measured in memory).
enum HTTPScenarios {
    static let writers = 32

    /// `--rooms` open chat rooms (default 1): 32 keep-alive HTTP writers posting, spread over the
    /// rooms, one WebSocket listener in the first room timing delivery.
    static func ingest(_ options: BenchOptions, target: BenchTarget, client: LoadClient) async throws -> BenchResult {
        let run = UUID().uuidString.prefix(8)
        let rooms = (0..<max(1, options.rooms)).map { "/rooms/chat/ingest-\(run)-\($0)" }
        return try await post(
            options, target: target, client: client, rooms: rooms, listener: "\(rooms[0])/ws?user=listener"
        ) { writer in "w\(writer)" }
    }

    /// `--rooms` direct rooms (default 32), opened first: 32 writers post, each as one of its
    /// room's two members, so that every message owes both members' inboxes an update (the
    /// delivery path of `members` and `direct` kinds). The other member of the first room listens.
    static func direct(_ options: BenchOptions, target: BenchTarget, client: LoadClient) async throws -> BenchResult {
        let run = UUID().uuidString.prefix(8)
        let count = max(1, options.rooms)
        let opener = try await HTTPLoadConnection.connect(host: target.host, port: target.port, on: client.group.next())
        try await forEach(count, connections: [opener]) { index, connection in
            connection.request(.POST, "/direct/dm?user=a\(run)-\(index)", body: #"{"with": "b\#(run)-\#(index)"}"#)
                .map { status in
                    if status != 201 { print("rooms bench: opening direct room \(index) answered \(status)") }
                    return status
                }
        }
        opener.close()
        let rooms = (0..<count).map { "/rooms/dm/\(DirectRoom.id(between: "a\(run)-\($0)", and: "b\(run)-\($0)", topic: nil))" }
        return try await post(
            options, target: target, client: client, rooms: rooms, listener: "\(rooms[0])/ws?user=b\(run)-0"
        ) { writer in "a\(run)-\(writer % count)" }
    }

    /// 32 keep-alive HTTP writers posting to `rooms` (writer `i` to room `i % rooms.count`, as
    /// `user(i)`), and one WebSocket listener at `listener` timing delivery.
    private static func post(
        _ options: BenchOptions, target: BenchTarget, client: LoadClient, rooms: [String], listener: String,
        user: (Int) -> String
    ) async throws -> BenchResult {
        _ = try await client.connect(path: listener, mode: .chat)
        let stopped = StopFlag()
        var connections: [HTTPLoadConnection] = []
        for _ in 0..<writers {
            connections.append(try await HTTPLoadConnection.connect(host: target.host, port: target.port, on: client.group.next()))
        }
        let size = options.size
        let interval: Double? = if case .perSecond(let rate) = options.rate { Double(writers) / rate } else { nil }
        for (index, connection) in connections.enumerated() {
            let loop = connection.eventLoop
            let stats = client.stats(for: loop)
            let path = "\(rooms[index % rooms.count])/messages"
            let name = user(index)
            loop.execute {
                func post() {
                    guard !stopped.isSet else { return }
                    let started = NIODeadline.now()
                    let body = #"{"user":"\#(name)","text":"\#(Stamp.text(size: size))"}"#
                    connection.request(.POST, path, body: body).whenComplete { result in
                        if case .success(201) = result {
                            if stats.measuring { stats.acknowledged += 1 }
                        } else if stats.measuring {
                            stats.errors += 1
                        }
                        guard let interval else { return post() }
                        let next = started + .nanoseconds(Int64(interval * 1e9))
                        loop.scheduleTask(deadline: next) { post() }
                    }
                }
                post()
            }
        }
        let measurement = try await Measurement.run(client: client, target: target, options: options)
        stopped.set()
        for connection in connections { connection.close() }
        return measurement.result(options, target: target)
    }

    /// Creates `rooms` rooms, waits until all hibernated, then wakes each with one posted
    /// message, `clients` (default 4) at a time; the latency is each waking request's round trip.
    static func activation(_ options: BenchOptions, target: BenchTarget, client: LoadClient) async throws -> BenchResult {
        let run = UUID().uuidString.prefix(8)
        let rooms = options.rooms
        @Sendable func post(_ index: Int, _ connection: HTTPLoadConnection) -> EventLoopFuture<Int> {
            connection.request(
                .POST, "/rooms/chat/act\(run)-\(index)/messages", body: #"{"user":"bench","text":"x"}"#)
        }
        // Create every room (not measured).
        let concurrency = max(1, options.clients == 0 ? 4 : options.clients)
        var creators: [HTTPLoadConnection] = []
        for _ in 0..<writers {
            creators.append(try await HTTPLoadConnection.connect(host: target.host, port: target.port, on: client.group.next()))
        }
        try await forEach(rooms, connections: creators) { index, connection in post(index, connection) }
        let prober = try await HTTPLoadConnection.connect(host: target.host, port: target.port, on: client.group.next())
        // Let them all hibernate.
        let deadline = ContinuousClock.now + .seconds(300)
        while try await metric("rooms_active", prober) != 0 {
            guard ContinuousClock.now < deadline else { throw BenchError("the rooms did not hibernate within 300 s") }
            try await Task.sleep(for: .milliseconds(200))
        }
        let before = try await metric("rooms_activations_total", prober) ?? 0
        let wakers = Array(creators.prefix(concurrency))
        let latency = LatencyLog()
        let measurement = try await Measurement.window(client: client, target: target) {
            try await forEach(rooms, connections: wakers) { index, connection in
                let started = NIODeadline.now()
                return post(index, connection).map { status in
                    latency.record(UInt64((NIODeadline.now() - started).nanoseconds / 1000), ok: status == 201)
                    return status
                }
            }
        }
        // A new connection: the prober idled through the window, longer than the server's HTTP
        // idle timeout when the window is long.
        let counter = try await HTTPLoadConnection.connect(host: target.host, port: target.port, on: client.group.next())
        let activations = Int((try await metric("rooms_activations_total", counter) ?? 0) - before)
        for connection in creators + [prober, counter] { connection.close() }
        var result = measurement.result(
            options, target: target, messages: activations, latency: latency.histogram,
            notes: [
                "messages/s counts activations (rooms_activations_total during the window); latency is the round trip "
                    + "of the POST that woke each room, \(concurrency) in flight"
            ])
        result.errors = latency.failures
        result.deliveriesPerSecond = Double(rooms) / measurement.seconds
        return result
    }

    /// Opens `clients` connections spread over `rooms` rooms, waits until every room hibernated
    /// (sockets open), and reports the server's memory per connection.
    static func idle(_ options: BenchOptions, target: BenchTarget, client: LoadClient) async throws -> BenchResult {
        guard let baseline = target.sample() else {
            throw BenchError("idle needs the server's PID: use --spawn, or --server-pid with --url")
        }
        let run = UUID().uuidString.prefix(8)
        let rooms = max(1, options.rooms)
        let sockets = try await client.connect(options.clients, mode: .chat) { index in
            "/rooms/chat/idle\(run)-\(index % rooms)/ws?user=u\(index)"
        }
        let prober = try await HTTPLoadConnection.connect(host: target.host, port: target.port, on: client.group.next())
        let deadline = ContinuousClock.now + .seconds(300)
        while try await metric("rooms_active", prober) != 0 {
            guard ContinuousClock.now < deadline else { throw BenchError("the rooms did not hibernate within 300 s") }
            try await Task.sleep(for: .milliseconds(200))
        }
        let hibernated = try await metric("rooms_hibernated_with_connections", prober) ?? 0
        let measurement = try await Measurement.window(client: client, target: target) {
            try await Task.sleep(for: .milliseconds(Int64(max(1, options.duration) * 1000)))
        }
        let now = target.sample() ?? baseline
        let perConnection = Double(now.rssBytes - baseline.rssBytes) / Double(sockets.count)
        prober.close()
        var result = measurement.result(
            options, target: target, messages: 0,
            notes: [
                "\(sockets.count) idle connections on \(rooms) rooms, \(Int(hibernated)) of them hibernated with connections; "
                    + "RSS \(baseline.rssBytes / 1024) KiB before connecting, \(now.rssBytes / 1024) KiB after"
            ])
        result.rssBytesPerConnection = perConnection
        result.serverRssBytes = now.rssBytes
        return result
    }

    /// Runs `request(i, connection)` for every i below `count`, each connection one at a time.
    private static func forEach(
        _ count: Int, connections: [HTTPLoadConnection],
        _ request: @escaping @Sendable (Int, HTTPLoadConnection) -> EventLoopFuture<Int>
    ) async throws {
        let next = Counter()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for connection in connections {
                group.addTask {
                    let loop = connection.eventLoop
                    try await loop.flatSubmit {
                        let done = loop.makePromise(of: Void.self)
                        func step() {
                            let index = next.take()
                            guard index < count else { return done.succeed() }
                            request(index, connection).whenComplete { _ in step() }
                        }
                        step()
                        return done.futureResult
                    }.get()
                }
            }
            try await group.waitForAll()
        }
    }

    /// The value of the unlabelled series `name` in `/metrics`.
    static func metric(_ name: String, _ connection: HTTPLoadConnection) async throws -> Double? {
        let response = try await connection.eventLoop.flatSubmit { connection.fetch(.GET, "/metrics") }.get()
        let text = String(buffer: response.body)
        return text.split(separator: "\n").first { $0.hasPrefix(name + " ") }
            .flatMap { Double($0.split(separator: " ").last ?? "") }
    }
}
