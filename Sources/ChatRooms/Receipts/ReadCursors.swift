import GRDB
public import RoomRuntime

/// Every user's read cursor in a chat room (the `read_cursors` table): the last `seq` they read,
/// which only moves forward, and what that leaves unread.
public enum ReadCursors {
    /// The table, as a migration step.
    static func addMigrations(to migrations: inout RoomMigrations) {
        migrations.add("v3-read-cursors") { db in
            try db.execute(
                sql: """
                    CREATE TABLE read_cursors (
                        user TEXT PRIMARY KEY,
                        read_seq INTEGER NOT NULL,
                        read_at INTEGER NOT NULL
                    ) STRICT;
                    """)
        }
    }

    /// The last `seq` `user` read (0 when they never read).
    public static func readSeq(of user: String, context: isolated RoomContext) throws -> Int64 {
        try context.storage.fetchOne("SELECT read_seq FROM read_cursors WHERE user = ?", arguments: [user])?[0] ?? 0
    }

    /// Moves `user`'s cursor to `seq`; false (and nothing written) when it is there or further.
    public static func advance(_ user: String, to seq: Int64, context: isolated RoomContext) throws -> Bool {
        guard seq > (try readSeq(of: user, context: context)) else { return false }
        try context.storage.execute(
            """
            INSERT INTO read_cursors (user, read_seq, read_at) VALUES (?, ?, ?)
            ON CONFLICT (user) DO UPDATE SET read_seq = excluded.read_seq, read_at = excluded.read_at
            """,
            arguments: [user, seq, context.now()])
        return true
    }

    /// The messages after `readSeq` that `user` did not send.
    public static func unread(for user: String, after readSeq: Int64, context: isolated RoomContext) throws -> Int {
        try context.storage.fetchOne(
            "SELECT count(*) FROM messages WHERE seq > ? AND user != ?", arguments: [readSeq, user])?[0] ?? 0
    }

    /// Every cursor, by user.
    public static func all(context: isolated RoomContext) throws -> [String: Int64] {
        var cursors: [String: Int64] = [:]
        for row in try context.storage.fetchAll("SELECT user, read_seq FROM read_cursors") {
            cursors[row["user"]] = row["read_seq"]
        }
        return cursors
    }
}
