import ArgumentParser
import Foundation
@_spi(Node) import RoomRuntime

/// `rooms check`: checks every SQLite file of a data directory (integrity, foreign keys, schema
/// version), read-only, so it is safe beside a running server.
struct Check: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check every room file and the node directory of a data directory.",
        discussion: """
            Opens each file read-only and runs PRAGMA integrity_check and PRAGMA foreign_key_check, \
            and reads its schema version. Prints one line per problem (file, kind, what is wrong) \
            and a summary. Exit status 0 when all is well, 1 on any problem. Safe to run while a \
            server uses the directory.
            """)

    @Option(help: "The data directory (the configuration's storage.directory).")
    var dataDir: String

    func validate() throws {
        try DataDirectoryArgument.validate(dataDir)
    }

    func run() async throws {
        let check = StorageCheck(layout: StorageLayout(root: URL(fileURLWithPath: dataDir)))
        let report: StorageCheck.Report
        do {
            report = try check.run()
        } catch {
            FileHandle.standardError.write(Data("rooms: cannot list \(dataDir): \(error)\n".utf8))
            throw ExitCode(1)
        }
        for problem in report.problems { print(problem) }
        let directory = report.checkedDirectory ? " and the node directory" : " (no node directory)"
        if report.problems.isEmpty {
            print("checked \(report.roomFiles) room files\(directory): all ok")
        } else {
            print("checked \(report.roomFiles) room files\(directory): \(report.problems.count) problems")
            throw ExitCode(1)
        }
    }
}
