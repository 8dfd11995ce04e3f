import Foundation

/// Runs a scenario against its target (and its peer), and gathers the report.
public enum BenchRunner {
    public static func run(_ options: BenchOptions, log: @Sendable (String) -> Void) async throws -> BenchReport {
        try validate(options)
        raiseFileLimit()
        var results: [BenchResult] = []
        let target = try options.url.map { try BenchTarget.remote(url: $0, pid: options.serverPID) }
        if let target {
            log("running \(options.scenario.rawValue) against \(target.name)")
            results.append(try await run(options, on: target))
        } else {
            let spawned = try await ServerLauncher.rooms(for: options)
            log("started rooms serve on port \(spawned.port) (pid \(spawned.pid ?? 0)); running \(options.scenario.rawValue)")
            do {
                results.append(try await run(options, on: spawned))
            } catch {
                await spawned.stop()
                throw error
            }
            await spawned.stop()
        }
        if options.peer == "node" {
            let peer = try await ServerLauncher.node()
            log("started the node ws peer on port \(peer.port); running \(options.scenario.rawValue) against it")
            do {
                results.append(try await run(options, on: peer))
            } catch {
                await peer.stop()
                throw error
            }
            await peer.stop()
        }
        return BenchReport(results)
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
