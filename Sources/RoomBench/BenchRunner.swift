import Foundation

/// Runs a scenario against its target (and its peer), and gathers the report.
public enum BenchRunner {
    public static func run(_ options: BenchOptions, log: @Sendable (String) -> Void) async throws -> BenchReport {
        try validate(options)
        raiseFileLimit()
        if let slo = options.sloP99Millis { return try await search(options, slo: slo, log: log) }
        var results: [BenchResult] = []
        let remote = try options.url.map { try BenchTarget.remote(url: $0, pid: options.serverPID) }
        for round in 0..<options.runs {
            let label = options.runs > 1 ? " (run \(round + 1) of \(options.runs))" : ""
            // With a peer, the order alternates (rooms, peer, peer, rooms, ...): a machine that
            // slows down or speeds up during the runs then weighs on both alike.
            var order = [false, true].filter { !$0 || options.peer != nil }
            if round % 2 == 1 { order.reverse() }
            for isPeer in order {
                if isPeer {
                    let peer = try await ServerLauncher.node()
                    log("started the node ws peer on port \(peer.port); running \(options.scenario.rawValue) against it\(label)")
                    results.append(try await run(options, stopping: peer))
                } else if let remote {
                    log("running \(options.scenario.rawValue) against \(remote.name)\(label)")
                    results.append(try await run(options, on: remote))
                } else {
                    let spawned = try await ServerLauncher.rooms(for: options)
                    log("started rooms serve on port \(spawned.port) (pid \(spawned.pid ?? 0)); running \(options.scenario.rawValue)\(label)")
                    results.append(try await run(options, stopping: spawned))
                }
            }
        }
        return BenchReport(results)
    }

    /// `--slo-p99`: the rate search against DurableRooms (one server for every probe), then
    /// against the peer.
    private static func search(_ options: BenchOptions, slo: Double, log: @Sendable (String) -> Void)
        async throws -> BenchReport
    {
        let search = RateSearch(options: options, slo: slo)
        var results: [BenchResult] = []
        var probes: [RateProbe] = []
        let rooms: BenchTarget
        if let url = options.url {
            rooms = try BenchTarget.remote(url: url, pid: options.serverPID)
        } else {
            rooms = try await ServerLauncher.rooms(for: options)
        }
        log("searching the highest rate \(rooms.name) holds at p99 <= \(slo) ms")
        do {
            let found = try await search.search(target: rooms.name, log: log) { try await run($0, on: rooms) }
            probes += found.probes
            if let best = found.best { results.append(best) }
        } catch {
            if options.url == nil { await rooms.stop() }
            throw error
        }
        if options.url == nil { await rooms.stop() }
        if options.peer == "node" {
            let peer = try await ServerLauncher.node()
            log("searching the highest rate the node ws peer holds at p99 <= \(slo) ms")
            do {
                let found = try await search.search(target: peer.name, log: log) { try await run($0, on: peer) }
                probes += found.probes
                if let best = found.best { results.append(best) }
            } catch {
                await peer.stop()
                throw error
            }
            await peer.stop()
        }
        guard results.contains(where: { $0.target != BenchReport.peerName }) else {
            throw BenchError("no rate held p99 <= \(slo) ms, down to 1 msg/s: see the probes above")
        }
        return BenchReport(results, probes: probes)
    }

    /// Runs the scenario against `target`, a server of our own, and stops it.
    private static func run(_ options: BenchOptions, stopping target: BenchTarget) async throws -> BenchResult {
        do {
            let result = try await run(options, on: target)
            await target.stop()
            return result
        } catch {
            await target.stop()
            throw error
        }
    }

    private static func run(_ options: BenchOptions, on target: BenchTarget) async throws -> BenchResult {
        let client = LoadClient(host: target.host, port: target.port, threads: options.clientThreads)
        do {
            let result: BenchResult
            switch options.scenario {
            case .fanout: result = try await SocketScenarios.fanout(options, target: target, client: client)
            case .rooms: result = try await SocketScenarios.rooms(options, target: target, client: client)
            case .ai: result = try await SocketScenarios.ai(options, target: target, client: client)
            case .doc: result = try await SocketScenarios.document(options, target: target, client: client)
            case .slow: result = try await SocketScenarios.slow(options, target: target, client: client)
            case .soak: result = try await SoakScenario.run(options, target: target, client: client)
            case .ingest: result = try await HTTPScenarios.ingest(options, target: target, client: client)
            case .direct: result = try await HTTPScenarios.direct(options, target: target, client: client)
            case .activation: result = try await HTTPScenarios.activation(options, target: target, client: client)
            case .idle: result = try await HTTPScenarios.idle(options, target: target, client: client)
            }
            await client.shutdown()
            return result
        } catch {
            await client.shutdown()
            throw error
        }
    }

    private static func validate(_ options: BenchOptions) throws {
        if let peer = options.peer {
            guard peer == "node" else { throw BenchError("--peer: the only peer is 'node'") }
            guard options.raw, options.scenario == .fanout || options.scenario == .rooms else {
                throw BenchError("--peer node compares raw broadcast: use it with --raw and fanout or rooms")
            }
        }
        if options.listeners != .websocket {
            guard options.scenario == .fanout, !options.raw, options.peer == nil else {
                throw BenchError(
                    "--listeners \(options.listeners.rawValue) applies to fanout, in chat mode, without a peer (the peer speaks WebSocket only)")
            }
        }
        if options.raw, ![.fanout, .rooms].contains(options.scenario) {
            throw BenchError("--raw applies to fanout and rooms")
        }
        if options.scenario == .slow, options.rate == .max {
            throw BenchError("slow measures latency at a steady rate: give --rate (messages per second)")
        }
        guard options.sampleEverySeconds > 0 else { throw BenchError("--sample-every must be positive") }
        guard options.duration > 0, options.warmup >= 0 else { throw BenchError("--duration must be positive") }
        guard (1...100).contains(options.runs) else { throw BenchError("--runs must be from 1 to 100") }
        if let slo = options.sloP99Millis {
            guard slo > 0, slo <= 60_000 else { throw BenchError("--slo-p99 must be from 0 to 60000 milliseconds") }
            guard [.fanout, .rooms, .ingest, .direct].contains(options.scenario) else {
                throw BenchError("--slo-p99 searches a rate: use it with fanout, rooms, ingest or direct")
            }
            guard options.runs == 1 else { throw BenchError("--slo-p99 and --runs do not go together") }
        }
        guard options.rooms >= 1, options.clients >= 0 else { throw BenchError("--rooms and --clients must be positive") }
        guard options.size >= 24, options.size <= 1 << 20 else { throw BenchError("--size must be from 24 to 1048576") }
        guard (1...64).contains(options.clientThreads) else { throw BenchError("--client-threads must be from 1 to 64") }
        let sockets = options.scenario == .idle ? options.clients : options.rooms * options.clients
        var limit = rlimit()
        getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
        if sockets + 200 > Int(limit.rlim_max) {
            throw BenchError("\(sockets) connections need more file descriptors than this process may open (\(limit.rlim_max))")
        }
    }

    /// Raises the soft limit of open files to the hard limit (the harness and `rooms serve`).
    public static func raiseFileLimit() {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return }
        limit.rlim_cur = limit.rlim_max
        setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
    }
}
