import Foundation
import TestSupport

/// The `rooms` executable built beside the test bundle, and helpers to run programs.
enum RoomsBinary {
    /// `.build/<configuration>/rooms`, next to the test binary.
    static var url: URL {
        URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("rooms")
    }

    /// The package's root directory.
    static var packageRoot: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent()
    }

    /// The path of `name` on `PATH`, if any.
    static func which(_ name: String) -> String? {
        for directory in (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":") {
            let candidate = "\(directory)/\(name)"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }

    /// Whether `python3` is on `PATH` and can import `module` (what an outside-client test needs).
    static func pythonCanImport(_ module: String) -> Bool {
        guard let python = which("python3") else { return false }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = ["-c", "import \(module)"]
        process.standardError = FileHandle.nullDevice
        guard (try? process.runToExitBlocking()) != nil else { return false }
        return process.terminationStatus == 0
    }

    /// Runs `executable` with `arguments` to completion; returns its status and combined output.
    ///
    /// - Parameter oneAtATime: waits for its turn behind every other outside program (the default).
    static func run(
        _ executable: String, _ arguments: [String], environment: [String: String] = [:],
        timeout: Duration = .seconds(120), oneAtATime: Bool = true
    ) async throws -> (status: Int32, output: String) {
        guard oneAtATime else {
            return try await runAlone(executable, arguments, environment: environment, timeout: timeout)
        }
        // One outside program at a time: each (a browser, Node, a Python client, with the servers
        // they start) loads the machine's two cores, and three at once beside the in-process tests
        // made those tests' timeouts expire.
        await programs.acquire()
        do {
            let result = try await runAlone(executable, arguments, environment: environment, timeout: timeout)
            await programs.release()
            return result
        } catch {
            await programs.release()
            throw error
        }
    }

    private static let programs = ProgramGate()

    private static func runAlone(
        _ executable: String, _ arguments: [String], environment: [String: String], timeout: Duration
    ) async throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if !environment.isEmpty {
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        }
        process.currentDirectoryURL = packageRoot
        // Its output goes to a file, not a pipe: a pipe is read to its end, which never comes while
        // anything the program started (a server, a browser) still holds it, and such a wait would
        // hold the gate, and every outside-program test behind it, for ever.
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("rooms-program-\(UUID().uuidString).log")
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)  // opening it for writing next says why, if it failed
        defer { try? FileManager.default.removeItem(at: log) }
        let output = try FileHandle(forWritingTo: log)
        defer { try? output.close() }
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let printed = { (try? String(contentsOf: log, encoding: .utf8)) ?? "" }
        let deadline = ContinuousClock.now + timeout
        while process.isRunning {
            if ContinuousClock.now > deadline {
                killTree(process.processIdentifier)
                throw TestFailure(
                    "\(executable) \(arguments) did not finish within \(timeout); it printed:\n\(printed().suffix(4_000))")
            }
            do {
                try await Task.sleep(for: .milliseconds(20))
            } catch {
                killTree(process.processIdentifier)
                throw error
            }
        }
        return (process.terminationStatus, printed())
    }

    /// Kills `root` and every process it started (found through /proc before any of them dies,
    /// since an orphan is handed to init and no longer traceable to `root`).
    private static func killTree(_ root: Int32) {
        var children: [Int32: [Int32]] = [:]
        for entry in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? [] {
            guard let pid = Int32(entry),
                let stat = try? String(contentsOfFile: "/proc/\(entry)/stat", encoding: .utf8),
                let afterName = stat.range(of: ") ", options: .backwards)
            else { continue }
            // "pid (name) state ppid ...": the name may hold spaces and parentheses.
            let fields = stat[afterName.upperBound...].split(separator: " ")
            if fields.count > 1, let parent = Int32(fields[1]) { children[parent, default: []].append(pid) }
        }
        var tree: [Int32] = []
        var next = [root]
        while let pid = next.popLast() {
            tree.append(pid)
            next += children[pid] ?? []
        }
        for pid in tree { kill(pid, SIGKILL) }
    }
}

/// A first-come, first-served lock that waits without holding a thread.
actor ProgramGate {
    private var busy = false
    private var waiting: [CheckedContinuation<Void, Never>] = []

    func acquire() async {
        guard busy else {
            busy = true
            return
        }
        await withCheckedContinuation { waiting.append($0) }
    }

    func release() {
        if waiting.isEmpty {
            busy = false
        } else {
            waiting.removeFirst().resume()
        }
    }
}
