/// A failure of a room's database.
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
    }

    public let kind: Kind
    public let message: String

    init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    public var description: String { message }
}
