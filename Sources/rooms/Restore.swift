import ArgumentParser
import Foundation
@_spi(Node) import RoomRuntime

/// `rooms restore`: copies a finished backup into an empty data directory and checks it.
struct Restore: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Copy a backup made by `rooms backup` into an empty data directory and check it.",
        discussion: """
            The backup must hold its backup.json (a finished backup). --data-dir must be absent or \
            empty: a restore never overwrites data. After copying, runs the same checks as \
            `rooms check` and prints their result. Exit status 0 when restored and all is well, 1 \
            otherwise.
            """)

    @Option(help: "The backup folder (written by rooms backup --to).")
    var from: String

    @Option(help: "The data directory to restore into (absent or empty).")
    var dataDir: String

    func run() async throws {
        let restore = StorageRestore(
            backup: URL(fileURLWithPath: from), target: StorageLayout(root: URL(fileURLWithPath: dataDir)))
        let result: (manifest: StorageBackup.Manifest, check: StorageCheck.Report)
        do {
            result = try restore.run()
        } catch {
            FileHandle.standardError.write(Data("rooms: restore failed: \(error)\n".utf8))
            throw ExitCode(1)
        }
        for problem in result.check.problems { print(problem) }
        let started = result.manifest.started.formatted(.iso8601)
        print("restored \(result.manifest.roomFiles) room files and the node directory from \(from) (backup begun \(started))")
        if result.check.problems.isEmpty {
            print("checked \(result.check.roomFiles) room files and the node directory: all ok")
        } else {
            print("checked \(result.check.roomFiles) room files: \(result.check.problems.count) problems")
            throw ExitCode(1)
        }
    }
}
