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
        let reader = Task { output.fileHandleForReading.readDataToEndOfFile() }
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
