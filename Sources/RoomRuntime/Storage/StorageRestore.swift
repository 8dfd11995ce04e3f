public import Foundation

/// Copies a finished backup (one ``StorageBackup`` wrote) into an empty or absent data directory,
/// then checks the result with ``StorageCheck``, for `rooms restore`.
///
/// Refuses a backup without its manifest (an unfinished one, or not a backup), one holding fewer
/// room files than its manifest counts, and a data directory that holds anything: a restore never
/// mixes with or overwrites live data.
@_spi(Node)
public struct StorageRestore: Sendable {
    /// One reason a restore cannot start or failed.
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    public let backup: URL
    public let target: StorageLayout

    public init(backup: URL, target: StorageLayout) {
        self.backup = backup.standardizedFileURL
        self.target = target
    }

    /// Copies every file, then checks the data directory; returns the backup's manifest and the
    /// check's report (problems in it mean the restored data is damaged).
    public func run() throws -> (manifest: StorageBackup.Manifest, check: StorageCheck.Report) {
        let fileManager = FileManager.default
        let manifestFile = backup.appendingPathComponent(StorageBackup.manifestName)
        guard let manifestData = fileManager.contents(atPath: manifestFile.path) else {
            throw Failure(description: "'\(backup.path)' has no \(StorageBackup.manifestName): not a finished backup")
        }
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        let manifest: StorageBackup.Manifest
        do {
            manifest = try decoder.decode(StorageBackup.Manifest.self, from: manifestData)
        } catch {
            throw Failure(description: "\(manifestFile.path) is not a backup manifest: \(error)")
        }
        if let entries = try? fileManager.contentsOfDirectory(atPath: target.root.path), !entries.isEmpty {
            throw Failure(description: "--data-dir '\(target.root.path)' is not empty; restore only into an empty or new directory")
        }
        let source = StorageLayout(root: backup)
        let roomFiles = try source.roomFiles()
        guard roomFiles.count == manifest.roomFiles else {
            throw Failure(description: "'\(backup.path)' holds \(roomFiles.count) room files, its manifest \(manifest.roomFiles)")
        }
        let hasDirectory = fileManager.fileExists(atPath: source.directoryFile.path)
        guard hasDirectory == manifest.nodeDirectory else {
            throw Failure(description: "'\(backup.path)': the node directory file is missing")
        }
        try fileManager.createDirectory(at: target.root, withIntermediateDirectories: true)
        var files = roomFiles
        if hasDirectory { files.insert(source.directoryFile, at: 0) }
        for file in files {
            let relative = String(file.path.dropFirst(source.root.path.count + 1))
            let copy = target.root.appendingPathComponent(relative)
            try fileManager.createDirectory(at: copy.deletingLastPathComponent(), withIntermediateDirectories: true)
            try fileManager.copyItem(at: file, to: copy)
            try StorageBackup.synchronize(copy)
        }
        return (manifest, try StorageCheck(layout: target).run())
    }
}
