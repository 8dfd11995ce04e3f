import Foundation

/// Runs a scenario against its target (and its peer), and gathers the report.
public enum BenchRunner {
    public static func run(_ options: BenchOptions, log: @Sendable (String) -> Void) async throws -> BenchReport {
        try validate(options)
        raiseFileLimit()
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
        if options.raw, ![.fanout, .rooms].contains(options.scenario) {
            throw BenchError("--raw applies to fanout and rooms")
        }
        guard options.duration > 0, options.warmup >= 0 else { throw BenchError("--duration must be positive") }
        guard (1...100).contains(options.runs) else { throw BenchError("--runs must be from 1 to 100") }
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
