public import Foundation
import GRDB

/// An offline (or online) check of a data directory's SQLite files, for `rooms check`.
///
/// Every room file (`rooms/<kind>/<aa>/<bb>/<digest>.sqlite`) and the node directory
/// (`directory.sqlite`) is opened read-only and checked with `PRAGMA integrity_check` and
/// `PRAGMA foreign_key_check`, and its schema version (the migrations GRDB recorded in
/// `grdb_migrations`) is compared with what this build knows: a file with no recorded runtime
/// schema, or one migrated by a newer build, is a problem. A room class's own steps are not
/// judged (the check does not know which class a kind runs); the runtime's steps are.
///
/// Opens are read-only and take no lock beyond SQLite's readers', so it is safe beside a running
/// server: a WAL file is read as any reader would.
@_spi(Node)
public struct StorageCheck: Sendable {
    /// One thing wrong with one file.
    public struct Problem: Sendable, CustomStringConvertible {
        /// The file.
        public let file: URL
        /// The room kind (the folder under `rooms/`), nil for the node directory.
        public let kind: String?
        /// What is wrong.
        public let message: String

        public var description: String {
            "\(file.path): \(kind.map { "kind \($0): " } ?? "")\(message)"
        }
    }

    /// What a check found.
    public struct Report: Sendable {
        /// Room files checked.
        public var roomFiles = 0
        /// Whether `directory.sqlite` existed (and was checked).
        public var checkedDirectory = false
        /// Every problem, in the order found.
        public var problems: [Problem] = []
    }

    /// The migrations `NodeDirectory` registers, in order. A directory that recorded another is
    /// from a newer build. (Kept here, not read from `NodeDirectory`, whose migrator is built in its
    /// initializer; `CheckCommandTests` fails if a new step is not listed.)
    static let directoryMigrations: Set<String> = ["v1", "v2-alarms"]

    /// The identifiers the runtime's own steps record in a room file.
    static var runtimeMigrations: Set<String> {
        Set(RoomStorage.runtimeMigrations.steps.map { "_rooms.\($0.name)" })
    }

    public let layout: StorageLayout

    public init(layout: StorageLayout) {
        self.layout = layout
    }

    /// Checks every file; never throws for a bad file (that is a ``Problem``).
    ///
    /// - Throws: when the rooms folder exists but cannot be listed.
    public func run() throws -> Report {
        var report = Report()
        let fileManager = FileManager.default
        if fileManager.fileExists(atPath: layout.directoryFile.path) {
            report.checkedDirectory = true
            report.problems += check(layout.directoryFile, kind: nil)
        }
        let roomsDepth = layout.root.standardizedFileURL.pathComponents.count + 1
        for file in try layout.roomFiles() {
            report.roomFiles += 1
            // rooms/<kind>/...: the first component under rooms/.
            let kind = file.pathComponents.dropFirst(roomsDepth).first ?? "?"
            report.problems += check(file, kind: kind)
        }
        return report
    }

    /// The problems of one file: nil kind for the node directory.
    func check(_ file: URL, kind: String?) -> [Problem] {
        func problem(_ message: String) -> Problem { Problem(file: file, kind: kind, message: message) }
        do {
            let queue = try StorageLayout.openReadOnly(file, label: "check", busyTimeout: 5)
            defer { try? queue.close() }
            return try queue.read { db in
                var problems: [Problem] = []
                let integrity = try String.fetchAll(db, sql: "PRAGMA integrity_check")
                if integrity != ["ok"] {
                    let shown = integrity.prefix(3).joined(separator: "; ")
                    problems.append(problem("integrity_check: \(shown)\(integrity.count > 3 ? " (\(integrity.count) lines)" : "")"))
                }
                let foreignKeyViolations = try Row.fetchAll(db, sql: "PRAGMA foreign_key_check")
                if !foreignKeyViolations.isEmpty {
                    problems.append(problem("foreign_key_check: \(foreignKeyViolations.count) violation(s)"))
                }
                problems += try schemaProblems(db, isRoom: kind != nil).map(problem)
                return problems
            }
        } catch let error as DatabaseError {
            return [problem("unreadable: \(error.message ?? "\(error.resultCode)")")]
        } catch {
            return [problem("unreadable: \(error)")]
        }
    }

    /// What is wrong with the recorded schema version, if anything: `known` is what this build
    /// registers (for a room file, the runtime's steps only; its class's steps are not judged).
    private func schemaProblems(_ db: Database, isRoom: Bool) throws -> [String] {
        guard try db.tableExists("grdb_migrations") else { return ["no schema version (no grdb_migrations table)"] }
        let recorded = Set(try String.fetchAll(db, sql: "SELECT identifier FROM grdb_migrations"))
        let known = isRoom ? Self.runtimeMigrations : Self.directoryMigrations
        let first = isRoom ? "_rooms.v1" : "v1"
        var problems: [String] = []
        if !recorded.contains(first) {
            problems.append("no schema version (migration \(first) not recorded)")
        }
        let ours = isRoom ? recorded.filter { $0.hasPrefix("_rooms.") } : recorded
        let newer = ours.subtracting(known).sorted()
        if !newer.isEmpty {
            problems.append("schema newer than this build knows (\(newer.joined(separator: ", ")))")
        }
        return problems
    }
}
