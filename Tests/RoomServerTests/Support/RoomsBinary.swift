import Foundation

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
        guard (try? process.run()) != nil else { return false }
        process.waitUntilExit()
        return process.terminationStatus == 0
    }

    /// Runs `executable` with `arguments` to completion; returns its status and combined output.
    static func run(
        _ executable: String, _ arguments: [String], environment: [String: String] = [:],
        timeout: Duration = .seconds(120)
    ) async throws -> (status: Int32, output: String) {
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
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        // Read on a Dispatch thread: a blocking read in a Task would hold one of the cooperative
        // pool's threads (two on a 2-core machine) for the program's whole run, and two such
        // programs at once (the Node and browser tests) would stall every other test.
        let reader = Task {
            await withCheckedContinuation { continuation in
                DispatchQueue.global().async { continuation.resume(returning: output.fileHandleForReading.readDataToEndOfFile()) }
            }
        }
        let deadline = ContinuousClock.now + timeout
        while process.isRunning {
            if ContinuousClock.now > deadline {
                process.terminate()
                // What it printed says where it stuck.
                let printed = String(decoding: await reader.value, as: UTF8.self)
                throw TestFailure("\(executable) \(arguments) did not finish within \(timeout); it printed:\n\(printed.suffix(4_000))")
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        return (process.terminationStatus, String(decoding: await reader.value, as: UTF8.self))
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
