import BuiltInRooms
import Foundation
import HTTPTypes
import HummingbirdTesting
import Logging
import NIOCore
@_spi(Node) import RoomRuntime
import RoomServer
import ServiceLifecycle

@testable import rooms

/// A real server on an ephemeral loopback port, with its data in a temporary directory.
final class TestServer: ServerEndpoint, Sendable {
    let server: RoomServer
    let port: Int
    let dataDirectory: URL
    private let group: ServiceGroup
    private let running: Task<Void, any Error>

    /// Starts a server; `configure` adjusts the configuration first.
    static func start(
        dataDirectory: URL? = nil, environment: [String: String] = [:],
        configure: (inout ServerConfiguration) -> Void = { _ in }
    ) async throws -> TestServer {
        let dataDirectory =
            dataDirectory
            ?? FileManager.default.temporaryDirectory.appendingPathComponent("rooms-e2e-\(UUID().uuidString)")
        var configuration = try ServerConfiguration.defaults(classes: BuiltInRoomClasses.registry)
        configuration.port = 0
        configuration.runtime.dataDirectory = dataDirectory
        configuration.runtime.shardCount = 2
        configure(&configuration)
        let (ports, portContinuation) = AsyncStream.makeStream(of: Int.self)
        var logger = Logger(label: "test-server")
        logger.logLevel = .warning
        let server = try await RoomServer(configuration: configuration, logger: logger, environment: environment) { port in
            portContinuation.yield(port)
        }
        let group = ServiceGroup(services: [server], logger: logger)
        let running = Task { try await group.run() }
        var iterator = ports.makeAsyncIterator()
        guard let port = await iterator.next() else { throw TestFailure("the server did not start") }
        return TestServer(server: server, port: port, dataDirectory: dataDirectory, group: group, running: running)
    }

    private init(server: RoomServer, port: Int, dataDirectory: URL, group: ServiceGroup, running: Task<Void, any Error>) {
        self.server = server
        self.port = port
        self.dataDirectory = dataDirectory
        self.group = group
        self.running = running
    }

    /// Stops the server gracefully and waits until it has.
    func stop() async throws {
        await group.triggerGracefulShutdown()
        try await running.value
    }

    /// Stops the server and deletes its data.
    func stopAndRemove() async throws {
        try await stop()
        try? FileManager.default.removeItem(at: dataDirectory)
    }

    /// Every regular file under the data directory, relative to it.
    func dataFiles() -> [String] {
        guard let enumerator = FileManager.default.enumerator(at: dataDirectory, includingPropertiesForKeys: nil) else {
            return []
        }
        let base = dataDirectory.standardizedFileURL.path
        return enumerator.compactMap { ($0 as? URL)?.standardizedFileURL.path }
            .filter { !(FileManager.default.fileExists(atPath: $0, isDirectory: nil) && isDirectory($0)) }
            .map { String($0.dropFirst(base.count + 1)) }.sorted()
    }

    private func isDirectory(_ path: String) -> Bool {
        var directory: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &directory) && directory.boolValue
    }
}

/// A status and a body.
struct HTTPResult: Sendable {
    let status: Int
    let body: String
    var headers: HTTPFields = [:]

    /// The body as a JSON object.
    var json: [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any]) ?? [:]
    }

    /// The error code of an error body.
    var errorCode: String? {
        (json["error"] as? [String: Any])?["code"] as? String
    }
}

struct TestFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
