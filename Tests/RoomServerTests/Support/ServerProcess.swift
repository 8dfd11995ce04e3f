import Foundation

/// `rooms serve` in a child process, on a free port, with a configuration and data directory of
/// the test's choosing: for what only a real process shows (signals, kill -9, restarts).
final class ServerProcess: ServerEndpoint, @unchecked Sendable {
    let port: Int
    private let process: Process
    private let log: URL

    /// Starts `rooms serve --config` on a configuration whose `kinds` and `runtime` sections are
    /// given as JSON, keeping data in `dataDirectory`, and waits until it listens.
    ///
    /// - Parameters:
    ///   - maxOpenDatabases: `storage.maxOpenDatabases`, if not the default.
    ///   - descriptorLimit: runs the server under `ulimit -n` this.
    ///   - sections: more top-level sections, as JSON members (`"push": {...}`).
    ///   - environment: variables added to the server's environment.
    ///   - storageDirectory: `storage.directory`, if not `dataDirectory/data` (nodes of a cluster
    ///     share one).
    ///   - port: `server.port`, if not one the system picks.
    static func start(
        kinds: String, runtime: String = "{}", dataDirectory: URL, maxOpenDatabases: Int? = nil,
        descriptorLimit: Int? = nil, sections: String? = nil, environment: [String: String] = [:],
        storageDirectory: URL? = nil, port: Int = 0
    ) async throws -> ServerProcess {
        try FileManager.default.createDirectory(at: dataDirectory, withIntermediateDirectories: true)
        let config = dataDirectory.appendingPathComponent("rooms.json")
        try Data(
            """
            {"server": {"host": "127.0.0.1", "port": \(port), "shutdownTimeoutSeconds": 10},
             "storage": {"directory": "\((storageDirectory ?? dataDirectory.appendingPathComponent("data")).path)"\(
                maxOpenDatabases.map { ", \"maxOpenDatabases\": \($0)" } ?? "")},
             "runtime": \(runtime), "log": {"level": "info"}, "kinds": \(kinds)\(sections.map { ", \($0)" } ?? "")}
            """.utf8
        ).write(to: config)
        let log = dataDirectory.appendingPathComponent("server-\(UUID().uuidString).log")
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)  // opening it for writing next says why, if it failed
        let process = Process()
        if let descriptorLimit {
            process.executableURL = URL(fileURLWithPath: "/bin/sh")
            process.arguments = [
                "-c", "ulimit -n \(descriptorLimit) && exec \"$0\" serve --config \"$1\"", RoomsBinary.url.path,
                config.path,
            ]
        } else {
            process.executableURL = RoomsBinary.url
            process.arguments = ["serve", "--config", config.path]
        }
        if !environment.isEmpty {
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { _, given in given }
        }
        let handle = try FileHandle(forWritingTo: log)
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        let deadline = ContinuousClock.now + .seconds(60)
        while true {
            let text = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
            if let range = text.range(of: #"listening on http://127\.0\.0\.1:(\d+)"#, options: .regularExpression),
                let port = Int(text[range].split(separator: ":").last ?? "")
            {
                return ServerProcess(port: port, process: process, log: log)
            }
            guard process.isRunning, ContinuousClock.now < deadline else {
                process.terminate()
                throw TestFailure("rooms serve did not start:\n\(text)")
            }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    private init(port: Int, process: Process, log: URL) {
        self.port = port
        self.process = process
        self.log = log
    }

    /// Sends `signal` and waits for the process to exit; returns its status.
    @discardableResult
    func stop(signal: Int32 = SIGTERM, timeout: Duration = .seconds(30)) async throws -> Int32 {
        kill(process.processIdentifier, signal)
        let deadline = ContinuousClock.now + timeout
        while process.isRunning {
            guard ContinuousClock.now < deadline else {
                kill(process.processIdentifier, SIGKILL)
                throw TestFailure("rooms serve did not exit within \(timeout) of signal \(signal)")
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        return process.terminationStatus
    }

    /// Waits for the process to exit on its own; returns its status, or nil if it still runs after
    /// `timeout`.
    func exited(within timeout: Duration) async throws -> Int32? {
        let deadline = ContinuousClock.now + timeout
        while process.isRunning {
            guard ContinuousClock.now < deadline else { return nil }
            try await Task.sleep(for: .milliseconds(20))
        }
        return process.terminationStatus
    }

    /// A test that fails before stopping its server must not leave it running.
    deinit {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
    }

    /// The server's process id.
    var pid: Int32 { process.processIdentifier }

    /// What the server logged so far.
    var output: String { (try? String(contentsOf: log, encoding: .utf8)) ?? "" }
}
