import Foundation
import PostgresTesting

/// What every test of a cluster of `rooms serve` processes sets up: a database of its own on the
/// test process's PostgreSQL, a scratch folder (removed with the fixture), and the data directory
/// its nodes share.
final class ClusterFixture: Sendable {
    /// The nodes' lease, in seconds: long enough that a loaded 2-core machine renews in time
    /// (renewals every second).
    static let lease = 3

    let postgres: PostgresDatabase
    let scratch: URL
    /// The data directory every node of the fixture shares (`storage.directory`).
    var storage: URL { scratch.appendingPathComponent("shared") }

    private init(postgres: PostgresDatabase, scratch: URL) {
        self.postgres = postgres
        self.scratch = scratch
    }

    static func start() async throws -> ClusterFixture {
        ClusterFixture(
            postgres: try await PostgresDatabase.fresh(),
            scratch: FileManager.default.temporaryDirectory.appendingPathComponent("rooms-cluster-\(UUID().uuidString.prefix(8))"))
    }

    deinit {
        try? FileManager.default.removeItem(at: scratch)
    }

    /// Starts node `id` serving `kinds`, advertising the port it listens on (`port`, or a free
    /// one). It reaches PostgreSQL at `postgresPort` if given (a proxy), else directly; `sections`
    /// are more configuration sections, `environment` more variables; its own folder is
    /// `directory` (default: its ID) in the scratch folder.
    func node(
        _ id: String, kinds: String, sections: String? = nil, environment: [String: String] = [:],
        postgresPort: Int? = nil, port: Int? = nil, directory: String? = nil
    ) async throws -> ServerProcess {
        let port = try port ?? PostgresServer.freePort()
        let url = postgresPort.map { postgres.url.replacingOccurrences(of: ":\(postgres.port)/", with: ":\($0)/") } ?? postgres.url
        let cluster = #""cluster": {"postgresURLEnv": "ROOMS_TEST_POSTGRES_URL", "nodeID": "\#(id)", "advertise": "http://127.0.0.1:\#(port)", "leaseSeconds": \#(Self.lease)}"#
        return try await ServerProcess.start(
            kinds: kinds, dataDirectory: scratch.appendingPathComponent(directory ?? id),
            sections: [sections, cluster].compactMap { $0 }.joined(separator: ", "),
            environment: environment.merging(["ROOMS_TEST_POSTGRES_URL": url]) { given, _ in given },
            storageDirectory: storage, port: port)
    }
}
