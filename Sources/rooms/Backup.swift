import ArgumentParser
import Foundation
@_spi(Node) import RoomRuntime

/// `rooms backup`: a consistent copy of a data directory, safe beside a running server.
struct Backup: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Copy every room file and the node directory of a data directory into a new folder.",
        discussion: """
            Copies the node directory first, then each room file with SQLite's VACUUM INTO, so each \
            copy is a committed state of its file and everything committed before the backup began \
            is in it. Safe to run while a server uses the directory. The copy mirrors the data \
            directory's layout and ends with backup.json (written last: a folder without it is an \
            unfinished backup). --to must be absent or empty. Exit status 0 on success, 1 otherwise.
            """)

    @Option(help: "The data directory (the configuration's storage.directory).")
    var dataDir: String

    @Option(help: "The folder to write the backup into (absent or empty).")
    var to: String

    func validate() throws {
        try DataDirectoryArgument.validate(dataDir, requireNodeDirectory: true)
    }

    func run() async throws {
        let backup = StorageBackup(
            source: StorageLayout(root: URL(fileURLWithPath: dataDir)), destination: URL(fileURLWithPath: to))
        let onTerminal = isatty(STDERR_FILENO) == 1
        let clock = ContinuousClock.now
        let report: StorageBackup.Report
        do {
            report = try backup.run { done, total in
                if onTerminal { FileHandle.standardError.write(Data("\rbacking up: \(done)/\(total) files".utf8)) }
            }
        } catch {
            if onTerminal { FileHandle.standardError.write(Data("\n".utf8)) }
            FileHandle.standardError.write(Data("rooms: backup failed: \(error)\n".utf8))
            throw ExitCode(1)
        }
        if onTerminal { FileHandle.standardError.write(Data("\n".utf8)) }
        for file in report.vanished { print("skipped \(file.path): deleted during the backup") }
        let seconds = (ContinuousClock.now - clock) / .seconds(1)
        let megabytes = Double(report.manifest.bytes) / 1_000_000
        print(
            "backed up \(report.manifest.roomFiles) room files and the node directory "
                + "(\(String(format: "%.1f", megabytes)) MB) to \(to) in \(String(format: "%.1f", seconds)) s")
    }
}
