public import Foundation
import Synchronization
import TestSupport

/// A throwaway PostgreSQL server for one test: its own cluster directory (initdb), on a free
/// loopback port, killed and removed by ``kill()``. Run as the `postgres` user when the tests
/// run as root (PostgreSQL refuses root), as CI does; `.ci/run` installs Debian's package.
///
/// Everything that waits (initdb, the start, psql) runs on a Dispatch thread, never on the
/// cooperative pool: a test that blocked one of its two threads (on a 2-core machine) for the
/// seconds initdb takes stalled every other test in the process.
public final class PostgresServer: PostgresEndpoint, @unchecked Sendable {
    public let port: Int
    public let directory: URL
    private let process: Process
    private let bin: String

    /// The URL a control plane connects with.
    public var url: String { url(database: "postgres") }

    /// The URL of `database` on this server.
    public func url(database: String) -> String { "postgres://rooms@127.0.0.1:\(port)/\(database)?sslmode=disable" }

    /// Creates and starts a server, and waits until it answers.
    public static func start() async throws -> PostgresServer {
        try await offPool { try PostgresServer() }
    }

    private init() throws {
        bin = try Self.binaries()
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("rooms-pg-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let asUser = getuid() == 0 ? ["/usr/bin/setpriv", "--reuid=postgres", "--regid=postgres", "--clear-groups", "--"] : []
        if getuid() == 0 {
            try Self.run(["/bin/chown", "postgres:postgres", directory.path])
        }
        let data = directory.appendingPathComponent("data").path
        try Self.run(asUser + ["\(bin)/initdb", "-D", data, "-U", "rooms", "-A", "trust", "--no-sync", "-E", "UTF8"])
        port = try Self.freePort()
        process = Process()
        let command = asUser + [
            "\(bin)/postgres", "-D", data, "-p", "\(port)", "-k", directory.path, "-c", "listen_addresses=127.0.0.1",
            "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off", "-c", "max_connections=50",
            "-c", "shared_buffers=16MB",
        ]
        process.executableURL = URL(fileURLWithPath: command[0])
        process.arguments = Array(command.dropFirst())
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        let giveUp = Date().addingTimeInterval(30)
        while (try? runPsql("SELECT 1")) != "1" {
            guard Date() < giveUp, process.isRunning else {
                killNow()
                throw PostgresServerError("PostgreSQL did not start on port \(port)")
            }
            Thread.sleep(forTimeInterval: 0.1)
        }
    }

    /// Runs `sql` with psql (a real outside client) and returns its unaligned output.
    public func psql(_ sql: String) async throws -> String {
        try await psql(sql, database: "postgres")
    }

    /// Runs `sql` in `database`.
    public func psql(_ sql: String, database: String) async throws -> String {
        try await Self.offPool { try self.runPsql(sql, database: database) }
    }

    private func runPsql(_ sql: String, database: String = "postgres") throws -> String {
        try Self.run([
            "\(bin)/psql", "-h", "127.0.0.1", "-p", "\(port)", "-U", "rooms", "-d", database, "-Atq", "-v", "ON_ERROR_STOP=1",
            "-c", sql,
        ]).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// The server's processes: the postmaster and its children.
    private func processIDs() -> [Int32] {
        guard let text = try? String(contentsOf: directory.appendingPathComponent("data/postmaster.pid"), encoding: .utf8),
            let main = text.split(separator: "\n").first.flatMap({ Int32($0) })
        else { return [] }
        let children = (try? Self.run(["/usr/bin/pgrep", "-P", "\(main)"])) ?? ""
        return [main] + children.split(separator: "\n").compactMap { Int32($0) }
    }

    /// Stops every process of the server (SIGSTOP): it holds its connections and answers nothing.
    public func pause() async {
        await Self.offPool { for pid in self.processIDs() { Foundation.kill(pid, SIGSTOP) } }
    }

    /// Lets a paused server go on.
    public func resume() async {
        await Self.offPool { for pid in self.processIDs().reversed() { Foundation.kill(pid, SIGCONT) } }
    }

    /// Kills the server at once (SIGKILL, without waiting) and removes its directory: for `defer`.
    public func kill() {
        killNow()
    }

    private func killNow() {
        let pids = processIDs()
        for pid in pids { Foundation.kill(pid, SIGKILL) }
        if process.isRunning { Foundation.kill(process.processIdentifier, SIGKILL) }
        let directory = directory
        DispatchQueue.global().asyncAfter(deadline: .now() + 0.5) { try? FileManager.default.removeItem(at: directory) }
    }

    static func offPool<T>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async { continuation.resume(with: Result { try body() }) }
        }
    }

    private static func offPool(_ body: @escaping @Sendable () -> Void) async {
        await withCheckedContinuation { continuation in
            DispatchQueue.global().async {
                body()
                continuation.resume()
            }
        }
    }

    private static func binaries() throws -> String {
        let root = "/usr/lib/postgresql"
        let versions = ((try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []).compactMap(Int.init).sorted()
        guard let newest = versions.last, FileManager.default.isExecutableFile(atPath: "\(root)/\(newest)/bin/postgres") else {
            throw PostgresServerError(
                "PostgreSQL's server is not installed (\(root)/VERSION/bin/postgres): apt-get install postgresql (.ci/run does)")
        }
        return "\(root)/\(newest)/bin"
    }

    @discardableResult
    private static func run(_ command: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: command[0])
        process.arguments = Array(command.dropFirst())
        let output = Pipe()
        let errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        var text = Data()
        var errorText = Data()
        try process.runToExitBlocking {
            text = output.fileHandleForReading.readDataToEndOfFile()
            errorText = errors.fileHandleForReading.readDataToEndOfFile()
        }
        guard process.terminationStatus == 0 else {
            throw PostgresServerError(
                "\(command.joined(separator: " ")) failed (\(process.terminationStatus)): \(String(decoding: errorText, as: UTF8.self))")
        }
        return String(decoding: text, as: UTF8.self)
    }

    /// A TCP port on 127.0.0.1 that nothing listens on now.
    public static func freePort() throws -> Int {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(descriptor) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
                bind(descriptor, pointer, length) == 0 && getsockname(descriptor, pointer, &length) == 0
            }
        }
        guard bound else { throw PostgresServerError("no free port") }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}

/// What a test needs of a PostgreSQL: a server of its own (``PostgresServer``) or a database on
/// the process's shared one (``PostgresDatabase``).
public protocol PostgresEndpoint: Sendable {
    var url: String { get }
    var port: Int { get }
    func psql(_ sql: String) async throws -> String
    /// Gives it up at once (for `defer`).
    func kill()
}

/// A database of its own on one PostgreSQL server the whole test process shares: starting a
/// server (initdb) for each of a dozen tests that run at once loaded CI's two cores enough for
/// the control plane's 5 s requests to time out. Tests that stop the server use their own.
public final class PostgresDatabase: PostgresEndpoint {
    public let server: PostgresServer
    public let name: String

    public var url: String { server.url(database: name) }
    public var port: Int { server.port }

    public func psql(_ sql: String) async throws -> String {
        try await server.psql(sql, database: name)
    }

    /// Leaves the database to the shared server, which ends with the test process.
    public func kill() {}

    /// A new, empty database on the shared server (started on first use).
    public static func fresh() async throws -> PostgresDatabase {
        let server = try await shared.server()
        let name = "t\(UInt64.random(in: 0...UInt64.max))"
        _ = try await server.psql("CREATE DATABASE \(name)")
        return PostgresDatabase(server: server, name: name)
    }

    private init(server: PostgresServer, name: String) {
        self.server = server
        self.name = name
    }

    private static let shared = SharedServer()

    private actor SharedServer {
        private var started: Task<PostgresServer, any Error>?

        func server() async throws -> PostgresServer {
            if let started { return try await started.value }
            let task = Task {
                let server = try await PostgresServer.start()
                PostgresDatabase.sharedServer.withLock { $0 = server }
                // Killed when the test process exits.
                atexit { PostgresDatabase.sharedServer.withLock { $0?.kill() } }
                return server
            }
            started = task
            return try await task.value
        }
    }

    /// The shared server, for the exit handler (a C function pointer captures nothing).
    static let sharedServer = Mutex<PostgresServer?>(nil)
}

public struct PostgresServerError: Error, CustomStringConvertible {
    public var description: String
    init(_ description: String) { self.description = description }
}
