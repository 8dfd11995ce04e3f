import Logging
import PostgresNIO

/// The control plane's tables in PostgreSQL, and the steps that create and migrate them.
///
/// Every node runs ``migrate(_:logger:)`` when it starts, all at once if need be: the steps run
/// under a transaction-scoped advisory lock, so one node applies each and the others find it done.
enum ControlPlaneSchema {
    /// The advisory lock migrations hold (any constant the deployment's other users do not take).
    static let migrationLock: Int64 = 0x524F_4F4D_5301  // "ROOMS" 1

    /// The steps, in order; a step's number is its index plus one. Never edit a step that shipped:
    /// add one.
    static let steps: [[String]] = [
        [
            """
            CREATE TABLE rooms_nodes (
                id text PRIMARY KEY,
                incarnation bigint NOT NULL,
                address text NOT NULL,
                lease_expires_at timestamptz NOT NULL,
                draining boolean NOT NULL DEFAULT false,
                joined_at timestamptz NOT NULL DEFAULT now()
            )
            """,
            // owner is null once its node released the room (drain): any node may take it.
            """
            CREATE TABLE rooms_owners (
                kind text NOT NULL,
                id text NOT NULL,
                owner text,
                owner_incarnation bigint,
                epoch bigint NOT NULL,
                acquired_at timestamptz NOT NULL DEFAULT now(),
                PRIMARY KEY (kind, id)
            )
            """,
            "CREATE INDEX rooms_owners_by_owner ON rooms_owners (owner, owner_incarnation)",
        ],
        // The connections each node holds, reported with every renewal (for GET /cluster).
        ["ALTER TABLE rooms_nodes ADD COLUMN connections integer NOT NULL DEFAULT 0"],
        // The secret the nodes' links authenticate with (one row; the first node to join writes it).
        ["CREATE TABLE rooms_cluster (id integer PRIMARY KEY CHECK (id = 1), link_secret bytea NOT NULL)"],
        // The room directory of the whole cluster (GET /rooms), copied from each node's about once
        // a second; next_alarm (milliseconds since 1970) lets any node run the schedules of a
        // room whose owner stopped.
        [
            """
            CREATE TABLE rooms_directory (
                kind text NOT NULL,
                id text NOT NULL,
                created_at bigint NOT NULL,
                last_active_at bigint NOT NULL,
                active boolean NOT NULL DEFAULT false,
                last_seq bigint NOT NULL DEFAULT 0,
                next_alarm bigint,
                PRIMARY KEY (kind, id)
            )
            """,
            "CREATE INDEX rooms_directory_by_next_alarm ON rooms_directory (next_alarm) WHERE next_alarm IS NOT NULL",
        ],
        // The rooms a kind's ttl expires: untouched for long, with no schedule.
        [
            """
            CREATE INDEX rooms_directory_by_activity ON rooms_directory (kind, last_active_at)
                WHERE next_alarm IS NULL
            """
        ],
    ]

    /// The schema version this build writes and reads.
    static var currentVersion: Int { steps.count }

    /// Brings the tables to ``currentVersion``.
    ///
    /// - Throws: ``ClusterError`` `schemaTooNew` when a newer build migrated them; errors of
    ///   PostgreSQL otherwise.
    static func migrate(_ client: PostgresClient, logger: Logger) async throws {
        let found = try await client.withTransaction(logger: logger) { connection -> Int in
            try await connection.query("SELECT pg_advisory_xact_lock(\(migrationLock))", logger: logger)
            try await connection.query(
                """
                CREATE TABLE IF NOT EXISTS rooms_schema (
                    version integer PRIMARY KEY,
                    applied_at timestamptz NOT NULL DEFAULT now()
                )
                """, logger: logger)
            var found = 0
            for try await version in try await connection.query(
                "SELECT coalesce(max(version), 0) FROM rooms_schema", logger: logger
            ).decode(Int.self) {
                found = version
            }
            guard found <= currentVersion else { return found }
            for version in (found + 1)..<(currentVersion + 1) {
                for statement in steps[version - 1] {
                    try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger)
                }
                try await connection.query("INSERT INTO rooms_schema (version) VALUES (\(version))", logger: logger)
                logger.notice("control plane: tables migrated", metadata: ["version": "\(version)"])
            }
            return found
        }
        guard found <= currentVersion else {
            throw ClusterError(
                .schemaTooNew,
                "the control plane's tables are at version \(found), written by a newer build; this one knows \(currentVersion)")
        }
    }
}
