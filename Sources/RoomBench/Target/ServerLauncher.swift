import Foundation

/// Starts the servers a benchmark runs against: `rooms serve` (this very executable) with a
/// configuration made for the scenario, or the Node `ws` peer.
enum ServerLauncher {
    /// Starts `rooms serve` on a free loopback port, with its data in a temporary directory.
    static func rooms(for options: BenchOptions) async throws -> BenchTarget {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("rooms-bench-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        // Scenarios about hibernated rooms want them to hibernate soon.
        let idle = switch options.scenario {
        case .activation, .idle: 1
        case .soak: 5
        default: 30
        }
        let maxActive = max(10_000, options.rooms + 100)
        // Fan-out at full speed queues many frames per listener; `slow` is about the bound where a
        // listener that stops reading is closed.
        let queuedFrames = options.scenario == .slow
            ? #""maxQueuedFrames": \#(SocketScenarios.slowMaxQueuedFrames), "# : #""maxQueuedFrames": 65536, "#
        let configuration = """
            {"server": {"host": "127.0.0.1", "port": 0, \(queuedFrames)"maxBodyBytes": 1048576},
             "storage": {"directory": "\(directory.appendingPathComponent("data").path)", "synchronous": "normal",
                         "maxOpenDatabases": 5000},
             "runtime": {"idleTimeoutSeconds": \(idle), "maxActiveRooms": \(maxActive)},
             "log": {"level": "info"},
             "kinds": {"chat": {"class": "chat", "maxTextBytes": 1048576},
                       "dm": {"class": "chat", "access": "direct", "maxTextBytes": 1048576},
                       "relay": {"class": "relay"},
                       "doc": {"class": "doc"},
                       "ai": {"class": "ai-chat", "maxQueuedPrompts": 1000,
                              "provider": {"type": "local", "tokensPerSecond": \(options.tokensPerSecond),
                                           "maxTokens": 50, "stampTokens": true}}}}
            """
        let file = directory.appendingPathComponent("rooms.json")
        try Data(configuration.utf8).write(to: file)
        let executable = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        return try await launch(
            executable: executable.path, arguments: ["serve", "--config", file.path], environment: [:], name: "rooms",
            directory: directory)
    }

    /// Starts the Node `ws` broadcast server of `Benchmarks/peers` on a free port.
    static func node() async throws -> BenchTarget {
        let script = URL(fileURLWithPath: "Benchmarks/peers/node-ws-broadcast.js")
        guard FileManager.default.fileExists(atPath: script.path) else {
            throw BenchError("\(script.path) not found: run rooms bench from the repository's root")
        }
        guard let node = ["/usr/bin/node", "/usr/bin/nodejs", "/usr/local/bin/node"].first(where: {
            FileManager.default.isExecutableFile(atPath: $0)
        }) else { throw BenchError("node is not installed (apt-get install nodejs node-ws)") }
        guard FileManager.default.fileExists(atPath: "/usr/share/nodejs/ws") else {
            throw BenchError("Node's ws module is not installed (apt-get install node-ws)")
        }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("rooms-bench-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        return try await launch(
            executable: node, arguments: [script.path, "0"], environment: ["NODE_PATH": "/usr/share/nodejs"],
            name: "node-ws", directory: directory)
    }

    /// Runs `executable`, waits for it to log `listening on http://127.0.0.1:PORT`.
    private static func launch(
        executable: String, arguments: [String], environment: [String: String], name: String, directory: URL
    ) async throws -> BenchTarget {
        let log = directory.appendingPathComponent("\(name).log")
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)  // opening it for writing next says why, if it failed
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let handle = try FileHandle(forWritingTo: log)
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        let deadline = ContinuousClock.now + .seconds(60)
        while ContinuousClock.now < deadline, process.isRunning {
            let text = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
            if let range = text.range(of: #"listening on http://127\.0\.0\.1:\d+"#, options: .regularExpression),
                let port = Int(text[range].split(separator: ":").last ?? "")
            {
                return BenchTarget(
                    host: "127.0.0.1", port: port, pid: process.processIdentifier, name: name, process: process,
                    directory: directory)
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        process.terminate()
        throw BenchError("\(name) did not start; its log: \((try? String(contentsOf: log, encoding: .utf8)) ?? "")")
    }
}
