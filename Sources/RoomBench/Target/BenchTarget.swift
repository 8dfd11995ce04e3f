import Foundation

/// The server a scenario runs against: one given by URL, or one the harness started.
final class BenchTarget: @unchecked Sendable {
    let host: String
    let port: Int
    /// The server's PID when known (spawned, or given with `--server-pid`).
    let pid: Int32?
    /// What it is, for the report (`rooms`, `node-ws`, or the URL).
    let name: String
    private let process: Process?
    private let directory: URL?

    init(host: String, port: Int, pid: Int32?, name: String, process: Process? = nil, directory: URL? = nil) {
        self.host = host
        self.port = port
        self.pid = pid
        self.name = name
        self.process = process
        self.directory = directory
    }

    /// Parses `http://HOST:PORT`.
    static func remote(url: String, pid: Int32?) throws -> BenchTarget {
        guard let components = URLComponents(string: url), components.scheme == "http",
            let host = components.host, let port = components.port
        else { throw BenchError("--url must look like http://127.0.0.1:8080") }
        return BenchTarget(host: host, port: port, pid: pid, name: url)
    }

    /// The server's CPU and memory now, if its PID is known.
    func sample() -> ProcessSample? {
        pid.flatMap(ProcessSample.read(pid:))
    }

    /// Stops a spawned server (SIGTERM, then SIGKILL after 15 s) and removes its data.
    func stop() async {
        guard let process, process.isRunning else { return }
        process.terminate()
        let deadline = ContinuousClock.now + .seconds(15)
        while process.isRunning, ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(20))
        }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        if let directory { try? FileManager.default.removeItem(at: directory) }
    }
}
