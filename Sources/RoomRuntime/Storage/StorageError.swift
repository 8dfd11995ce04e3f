public import GRDB

/// A failure of a room's database, with SQLite's own reason when SQLite gave one.
///
/// ```swift
/// catch let error as StorageError where error.isDiskFull { ... }
/// ```
public struct StorageError: Error, Sendable, CustomStringConvertible {
    /// What failed.
    public enum Kind: Sendable, Equatable {
        /// The file could not be opened or created.
        case open
        /// A migration failed, or the file was migrated by a newer class.
        case migration
        /// A commit failed; nothing since the previous commit is stored.
        case commit
        /// SQLite rolled back the whole open transaction (after an I/O error or a full disk).
        case transactionLost
        /// A room created on its first write could not be written to its file.
        case create
        /// A statement a room ran failed for a reason of the storage itself (a full disk, an I/O
        /// error, a locked or damaged file), not of the statement.
        case statement
        /// In a cluster: another node took the room over (its file carries a newer owner epoch
        /// than the one this node holds it at), so this node may not write to it.
        case fenced
    }

    /// What failed.
    public let kind: Kind
    /// What happened, with the file's path when there is one.
    public let message: String
    /// SQLite's (extended) result code, when the failure came from SQLite: `SQLITE_FULL` for a
    /// full disk, `SQLITE_BUSY` for a database another process holds, `SQLITE_CORRUPT` or
    /// `SQLITE_NOTADB` for a damaged file, `SQLITE_IOERR_*` for the operating system's errors.
    public let resultCode: ResultCode?

    init(_ kind: Kind, _ message: String, cause: (any Error)? = nil) {
        self.kind = kind
        self.resultCode = (cause as? DatabaseError)?.extendedResultCode ?? (cause as? StorageError)?.resultCode
        if let cause {
            self.message = "\(message): \(cause)"
        } else {
            self.message = message
        }
    }

    /// Whether the disk (or the file system's quota) is full.
    public var isDiskFull: Bool { resultCode?.primaryResultCode == .SQLITE_FULL }

    /// Whether the file is damaged or not a database.
    public var isCorrupt: Bool {
        resultCode?.primaryResultCode == .SQLITE_CORRUPT || resultCode?.primaryResultCode == .SQLITE_NOTADB
    }

    /// Whether another connection held the database locked.
    public var isBusy: Bool {
        resultCode?.primaryResultCode == .SQLITE_BUSY || resultCode?.primaryResultCode == .SQLITE_LOCKED
    }

    /// Whether the failure comes from the storage (disk, file system, locks, damage) rather than
    /// from what was asked of it: retrying later may work, and nothing is wrong with the room's
    /// code.
    public var isEnvironmental: Bool {
        guard let primary = resultCode?.primaryResultCode else { return kind != .migration && kind != .fenced }
        switch primary {
        case .SQLITE_FULL, .SQLITE_IOERR, .SQLITE_BUSY, .SQLITE_LOCKED, .SQLITE_CORRUPT, .SQLITE_NOTADB,
            .SQLITE_CANTOPEN, .SQLITE_READONLY, .SQLITE_NOMEM, .SQLITE_PROTOCOL, .SQLITE_ABORT:
            return true
        default:
            return false
        }
    }

    public var description: String {
        guard let resultCode else { return message }
        return "\(message) (SQLite result code \(resultCode.rawValue))"
    }
}
