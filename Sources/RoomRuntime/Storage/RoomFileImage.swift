import Foundation
import GRDB
import GRDBSQLite

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The bytes of a whole room database: the image a new room's file is written from, and the
/// template a new room's in-memory database is loaded from.
///
/// A room lives in memory until its first commit that counts; creating its file then was
/// SQLite's backup API into a fresh file (a rollback journal, synced twice, plus the directory)
/// followed by the switch to WAL (the WAL and the directory synced again). An image is instead
/// written to a temporary file with one `write`, synced once, renamed into place and the directory
/// synced, so that a crash leaves either the whole file or none. SQLite has no call that writes a
/// database image to a file durably, hence this code.
struct RoomFileImage: Sendable {
    /// The serialized database.
    private var bytes: [UInt8]

    /// The suffix of the temporary file an image is written to before it is renamed into place.
    static let temporarySuffix = "-creating"

    /// Byte offsets 18 and 19 of a database header: the file format's write and read versions,
    /// 2 for WAL (1 for a rollback journal, which is what an in-memory database says).
    private static let formatVersionOffsets = [18, 19]

    /// The database `db` (its `main` schema), serialized.
    init(serializing db: Database) throws(DatabaseError) {
        var size: sqlite3_int64 = 0
        guard let serialized = sqlite3_serialize(db.sqliteConnection, "main", &size, 0) else {
            throw DatabaseError(resultCode: .SQLITE_NOMEM, message: "cannot serialize the room's database")
        }
        defer { sqlite3_free(serialized) }
        bytes = Array(UnsafeBufferPointer(start: serialized, count: Int(size)))
        guard bytes.count >= 100 else {
            throw DatabaseError(resultCode: .SQLITE_CORRUPT, message: "the room's database has no header")
        }
    }

    /// Replaces the content of `db` (its `main` schema, an in-memory database) with a copy of the
    /// image. The caller clears GRDB's schema cache.
    func load(into db: Database) throws(DatabaseError) {
        let count = bytes.count
        guard let copy = sqlite3_malloc64(sqlite3_uint64(count))?.assumingMemoryBound(to: UInt8.self) else {
            throw DatabaseError(resultCode: .SQLITE_NOMEM, message: "cannot copy a room template")
        }
        bytes.withUnsafeBufferPointer { copy.update(from: $0.baseAddress!, count: count) }
        // SQLite owns the copy from here on, and frees it even when the call fails.
        let flags = UInt32(SQLITE_DESERIALIZE_FREEONCLOSE | SQLITE_DESERIALIZE_RESIZEABLE)
        let result = sqlite3_deserialize(
            db.sqliteConnection, "main", copy, sqlite3_int64(count), sqlite3_int64(count), flags)
        guard result == SQLITE_OK else {
            throw DatabaseError(resultCode: ResultCode(rawValue: result), message: "cannot load a room template")
        }
    }

    /// Stores the image as `file`, durably: written to a temporary file of this call's own
    /// (`file` + ``temporarySuffix`` + a unique tail) first, synced, linked as `file` (never
    /// replacing a file that is there), then the directory synced (so that the new name survives
    /// a crash). Missing folders are created first, each synced into its parent. Temporary files
    /// that crashes left are removed first.
    ///
    /// - Throws: `DatabaseError` with `SQLITE_FULL` when the disk is full, `SQLITE_CANTOPEN` or
    ///   `SQLITE_IOERR` for the system's other errors; the temporary file is then removed.
    func store(as file: URL) throws(DatabaseError) {
        try Self.createDirectories(for: file)
        Self.removeLeftovers(of: file)
        // A name of its own, created exclusively: two nodes of a cluster creating one room at
        // once (one of them no longer its owner) never write into the same file.
        let temporary = file.path + Self.temporarySuffix + ".\(getpid()).\(UInt64.random(in: 0...UInt64.max))"
        // The file says WAL from its first byte: it opens in WAL mode with no journal-mode switch.
        var bytes = bytes
        for offset in Self.formatVersionOffsets { bytes[offset] = 2 }
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw Self.error("open", temporary, errno, .SQLITE_CANTOPEN) }
        do throws(DatabaseError) {
            var written = 0
            while written < bytes.count {
                let result = bytes.withUnsafeBytes { write(descriptor, $0.baseAddress! + written, $0.count - written) }
                if result < 0, errno == EINTR { continue }
                guard result > 0 else { throw Self.error("write", temporary, errno, .SQLITE_IOERR_WRITE) }
                written += result
            }
            guard fdatasync(descriptor) == 0 else { throw Self.error("fdatasync", temporary, errno, .SQLITE_IOERR_FSYNC) }
        } catch {
            close(descriptor)
            unlink(temporary)
            throw error
        }
        // link, not rename: it never replaces a file that is there. On one node nothing can be
        // (the room had no file when it opened); in a cluster, a node whose ownership lapsed while
        // it created the room must not overwrite the file the new owner created meanwhile.
        guard close(descriptor) == 0, link(temporary, file.path) == 0 else {
            let error = Self.error("close or link", temporary, errno, errno == EEXIST ? .SQLITE_CANTOPEN : .SQLITE_IOERR)
            unlink(temporary)
            throw error
        }
        unlink(temporary)
        do {
            try Self.syncDirectory(of: file)
        } catch {
            // The file this call linked is taken back: the room stays uncreated, as the caller is told.
            unlink(file.path)
            throw error
        }
    }

    /// Removes the temporary files of creations of `file` that a crash interrupted (or that another
    /// node is making now: its creation then fails, cleanly, as it would have anyway).
    static func removeLeftovers(of file: URL) {
        let folder = file.deletingLastPathComponent()
        let prefix = file.lastPathComponent + temporarySuffix
        for name in (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? [] where name.hasPrefix(prefix) {
            unlink(folder.appendingPathComponent(name).path)
        }
    }

    /// Creates the folders above `file` that do not exist, syncing each new one into its parent.
    static func createDirectories(for file: URL) throws(DatabaseError) {
        var missing: [URL] = []
        var directory = file.deletingLastPathComponent()
        while !FileManager.default.fileExists(atPath: directory.path) {
            missing.append(directory)
            directory = directory.deletingLastPathComponent()
        }
        for directory in missing.reversed() {
            guard mkdir(directory.path, 0o755) == 0 || errno == EEXIST else {
                throw error("mkdir", directory.path, errno, .SQLITE_CANTOPEN)
            }
            try syncDirectory(of: directory)
        }
    }

    /// Syncs the directory holding `file`, so that a name just created or renamed in it is on disk.
    static func syncDirectory(of file: URL) throws(DatabaseError) {
        let directory = file.deletingLastPathComponent().path
        let descriptor = open(directory, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw error("open", directory, errno, .SQLITE_CANTOPEN) }
        defer { close(descriptor) }
        guard fsync(descriptor) == 0 else { throw error("fsync", directory, errno, .SQLITE_IOERR_DIR_FSYNC) }
    }

    /// The error for a failed system call: a full disk (or quota) is `SQLITE_FULL`, as SQLite
    /// reports it, so that senders are told their room's storage is full.
    private static func error(
        _ call: String, _ path: String, _ code: Int32, _ resultCode: ResultCode
    ) -> DatabaseError {
        let full = code == ENOSPC || code == EDQUOT
        return DatabaseError(
            resultCode: full ? .SQLITE_FULL : resultCode,
            message: "\(call) \(path): \(String(cString: strerror(code)))")
    }
}
