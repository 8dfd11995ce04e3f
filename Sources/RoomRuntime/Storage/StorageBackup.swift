public import Foundation
import GRDB

/// A consistent copy of a data directory, taken while a server may be running, for `rooms backup`.
///
/// The node directory (`directory.sqlite`) is copied first, then every room file, one at a time,
/// each with SQLite's `VACUUM INTO`: a reader's snapshot, so each copy is a committed state of its
/// own file and the server's writer is never blocked (WAL lets a reader run beside it).
///
/// **Consistency:** each copied file is a committed state of that file; everything committed
/// before the backup began is in the backup. Files are not copied at one common instant: a room
/// may hold messages committed during the run, and a room registered after the directory was
/// copied may be in the rooms but not in the directory copy (the directory is an index the server
/// rebuilds entries of as rooms open). A room deleted during the run is skipped with a note.
///
/// The copy mirrors the data directory's layout (``StorageLayout``) and ends with
/// ``manifestName``, written last, so a backup without it is an unfinished one.
@_spi(Node)
public struct StorageBackup: Sendable {
    /// The file written last into a finished backup.
    public static let manifestName = "backup.json"

    /// What a finished backup records about itself.
    public struct Manifest: Codable, Sendable {
        /// The layout version of the backup (this one: 1).
        public var format = 1
        /// What wrote it.
        public var tool = "rooms backup"
        /// When the backup began (everything committed before this is in it).
        public var started: Date
        /// When the last file was copied.
        public var finished: Date
        /// Room files copied.
        public var roomFiles: Int
        /// Whether the node directory was copied.
        public var nodeDirectory: Bool
        /// Bytes of all copied files.
        public var bytes: Int64
    }

    /// What a backup did.
    public struct Report: Sendable {
        public var manifest: Manifest
        /// Room files listed but gone before they could be copied (deleted meanwhile).
        public var vanished: [URL] = []
    }

    /// One reason a backup cannot start or failed.
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    public let source: StorageLayout
    public let destination: URL

    public init(source: StorageLayout, destination: URL) {
        self.source = source
        self.destination = destination.standardizedFileURL
    }

    /// Copies everything; `progress` is called with (files done, files in all) after each file.
    ///
    /// - Throws: ``Failure`` when the destination exists and is not empty, or a file cannot be
    ///   copied for another reason than having vanished.
    public func run(progress: (Int, Int) -> Void = { _, _ in }) throws -> Report {
        let fileManager = FileManager.default
        if let entries = try? fileManager.contentsOfDirectory(atPath: destination.path), !entries.isEmpty {
            throw Failure(description: "--to '\(destination.path)' exists and is not empty")
        }
        let started = Date()
        try fileManager.createDirectory(at: destination, withIntermediateDirectories: true)
        let hasDirectory = fileManager.fileExists(atPath: source.directoryFile.path)
        let roomFiles = try source.roomFiles()
        let total = roomFiles.count + (hasDirectory ? 1 : 0)
        var done = 0
        var bytes: Int64 = 0
        var vanished: [URL] = []
        if hasDirectory {
            bytes += try copy(source.directoryFile, to: "directory.sqlite")
            done += 1
            progress(done, total)
        }
        var copied = 0
        for file in roomFiles {
            let relative = String(file.path.dropFirst(source.root.path.count + 1))
            do {
                bytes += try copy(file, to: relative)
                copied += 1
            } catch where !fileManager.fileExists(atPath: file.path) {
                vanished.append(file)
                try? fileManager.removeItem(at: destination.appendingPathComponent(relative))
            }
            done += 1
            progress(done, total)
        }
        let manifest = Manifest(
            started: started, finished: Date(), roomFiles: copied, nodeDirectory: hasDirectory, bytes: bytes)
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        let manifestFile = destination.appendingPathComponent(Self.manifestName)
        try encoder.encode(manifest).write(to: manifestFile)
        try Self.synchronize(manifestFile)
        return Report(manifest: manifest, vanished: vanished)
    }

    /// `VACUUM INTO` one file at `relative` under the destination; returns the copy's size.
    private func copy(_ file: URL, to relative: String) throws -> Int64 {
        let target = destination.appendingPathComponent(relative)
        try FileManager.default.createDirectory(
            at: target.deletingLastPathComponent(), withIntermediateDirectories: true)
        do {
            let queue = try StorageLayout.openReadOnly(file, label: "backup", busyTimeout: 10)
            defer { try? queue.close() }
            // Outside a transaction: VACUUM refuses to run inside one.
            try queue.inDatabase { db in try db.execute(sql: "VACUUM INTO ?", arguments: [target.path]) }
        } catch let error as DatabaseError {
            throw Failure(description: "\(file.path): \(error.message ?? "\(error.resultCode)")")
        }
        try Self.synchronize(target)
        let size = try FileManager.default.attributesOfItem(atPath: target.path)[.size] as? Int64
        return size ?? 0
    }

    /// Flushes a written file to the disk (VACUUM INTO does not promise it).
    static func synchronize(_ file: URL) throws {
        let handle = try FileHandle(forWritingTo: file)
        defer { try? handle.close() }
        try handle.synchronize()
    }
}

extension StorageLayout {
    /// Opens `file` read-only, as a reader beside a running server would (`rooms check`,
    /// `rooms backup`): no lock beyond SQLite's readers', waiting up to `busyTimeout` seconds.
    static func openReadOnly(_ file: URL, label: String, busyTimeout: TimeInterval) throws -> DatabaseQueue {
        var configuration = Configuration()
        configuration.readonly = true
        configuration.busyMode = .timeout(busyTimeout)
        configuration.label = label
        return try DatabaseQueue(path: file.path, configuration: configuration)
    }

    /// Every room file (`rooms/<kind>/<aa>/<bb>/<digest>.sqlite`), sorted by path.
    ///
    /// - Throws: when the rooms folder exists but cannot be listed.
    func roomFiles() throws -> [URL] {
        let fileManager = FileManager.default
        let roomsFolder = root.appendingPathComponent("rooms")
        var isFolder: ObjCBool = false
        guard fileManager.fileExists(atPath: roomsFolder.path, isDirectory: &isFolder), isFolder.boolValue else {
            return []
        }
        var files: [URL] = []
        for kind in try fileManager.contentsOfDirectory(atPath: roomsFolder.path) {
            let kindFolder = roomsFolder.appendingPathComponent(kind)
            guard let enumerator = fileManager.enumerator(at: kindFolder, includingPropertiesForKeys: nil) else { continue }
            for case let url as URL in enumerator where url.pathExtension == "sqlite" {
                files.append(url.standardizedFileURL)
            }
        }
        return files.sorted { $0.path < $1.path }
    }
}
