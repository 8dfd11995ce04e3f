import Foundation
import GRDB
public import RoomRuntime

/// The `doc` room class: a plain-text document many people edit at once, kept consistent by
/// server-authoritative operational transformation. It is the example of a room that transforms
/// concurrent input: every edit goes through this one single-threaded object, in order, so
/// conflicts are resolved in one place instead of by a distributed protocol.
///
/// - **Operations.** A client sends `{"type": "op", "id", "base": V, "ops": [...]}`, an edit of the
///   document as it was at version `V` (``TextOperation``). The room transforms it against every
///   operation committed after `V`, applies it, stores it as the next version, answers the sender
///   `op.ack` and sends everyone else the transformed `op`. An `id` the same user sent before is
///   acknowledged again and not applied twice, so a client resends freely after a reconnect (ids
///   are per user, as chat's are: nobody can claim another's).
/// - **Versions are the room's sequence.** Each operation takes ``RoomContext/nextSequence()``, so
///   the runtime's resume applies: a client reconnecting with `?after=V&epoch=E` while `V` is in
///   the log gets the operations it missed (``replay(after:context:)``); otherwise a `doc` frame
///   with the whole text.
/// - **Snapshots and a compacted log.** Every `snapshotEvery` operations the room stores the text;
///   operations more than `keepVersions` behind the newest snapshot are dropped (the log is cut at
///   a snapshot, so it may keep up to `snapshotEvery` more).
///   ``onStart(_:context:)`` rebuilds the text from the newest snapshot and the log after it, so a
///   crash loses no acknowledged edit. `GET .../text?version=V` rebuilds any version from the
///   nearest snapshot and the log; `GET .../versions` lists the snapshots.
/// - **Cursors** (`{"type": "cursor", "anchor", "head", "version"}`) are moved to the current
///   version and relayed to the others with the user's name, at most one per user every
///   `cursorIntervalMilliseconds`; they are kept in memory only.
///
/// Positions count UTF-16 code units, as browsers' text fields do; an edit that would cut a
/// surrogate pair in two is refused.
public final class DocumentRoom: Room {
    public static let className = "doc"

    public static var migrations: RoomMigrations {
        var migrations = RoomMigrations()
        migrations.add("v1") { db in
            try db.execute(
                sql: """
                    CREATE TABLE operations (
                        version INTEGER PRIMARY KEY, id TEXT NOT NULL, user TEXT NOT NULL, ops TEXT NOT NULL,
                        ts INTEGER NOT NULL) STRICT;
                    CREATE TABLE operation_ids (
                        user TEXT NOT NULL, id TEXT NOT NULL, version INTEGER NOT NULL, PRIMARY KEY (user, id)) STRICT;
                    CREATE INDEX operation_ids_version ON operation_ids (version);
                    CREATE TABLE snapshots (version INTEGER PRIMARY KEY, text TEXT NOT NULL, ts INTEGER NOT NULL) STRICT;
                    """)
        }
        return migrations
    }

    /// Operation ids are remembered for at least this many versions (or `keepVersions`, if more),
    /// so that a client resending after a long absence is acknowledged rather than applied twice.
    static let rememberedIDs: Int64 = 10_000

    private let options: DocumentOptions
    /// The current text.
    private var text = DocumentText()
    /// The current version: the last operation's, or the newest snapshot's.
    private var version: Int64 = 0
    /// The operations in the log, oldest first.
    private var log: [LoggedOperation] = []
    /// The newest snapshot's version.
    private var snapshotVersion: Int64 = 0
    /// The log holds the operations after this version (a snapshot's, or 0).
    private var logCut: Int64 = 0
    /// Set by ``replay(after:context:)`` in a connect turn, read by ``welcome(for:context:)``.
    private var replayed = false
    /// The connection of the current connect turn that resumed from the log (it gets no `doc`).
    private var resumedConnection: RoomConnection.ID?
    /// Each user's latest cursor, at the version it was relayed at.
    private var cursors: [String: CursorBroadcast] = [:]
    /// Cursors waiting for their user's interval to end, with the connection they came from.
    private var waitingCursors: [String: (cursor: CursorBroadcast, from: RoomConnection)] = [:]
    /// When each user's last cursor was relayed.
    private var cursorRelayedAt: [String: ContinuousClock.Instant] = [:]

    public init(options: DocumentOptions) {
        self.options = options
    }

    // MARK: - Lifecycle

    public func onStart(_ activation: Activation, context: isolated RoomContext) async throws {
        let snapshot = try context.storage.fetchOne("SELECT version, text FROM snapshots ORDER BY version DESC LIMIT 1")
        snapshotVersion = snapshot?["version"] ?? 0
        text = DocumentText(snapshot?["text"] ?? "")
        version = snapshotVersion
        log = try loadOperations(context: context)
        for logged in log where logged.version > snapshotVersion {
            try text.apply(logged.operation)
            version = logged.version
        }
    }

    public func replay(after seq: Int64, context: isolated RoomContext) async throws -> [OutboundFrame]? {
        guard seq >= oldestResumable else { return nil }
        let frames = try missed(after: seq).map { logged throws(RoomError) in try OutboundFrame.json(OperationBroadcast(logged)) }
        replayed = true
        return frames
    }

    public func welcome(for connection: RoomConnection, context: isolated RoomContext) async throws
        -> [String: JSONValue]
    {
        resumedConnection = replayed ? connection.id : nil
        replayed = false
        return [:]
    }

    public func onConnect(_ connection: RoomConnection, context: isolated RoomContext) async throws {
        let resumed = resumedConnection == connection.id
        resumedConnection = nil
        if !resumed {
            context.send(try .json(DocumentFrame(version: version, text: text.string)), to: connection)
        }
        for (user, cursor) in cursors where user != connection.user {
            if let moved = moved(cursor) { context.send(try .json(moved), to: connection) }
        }
    }

    public func onClose(_ connection: RoomConnection, context: isolated RoomContext) async throws {
        let user = connection.user
        guard !context.connections.contains(where: { $0.user == user }) else { return }
        waitingCursors[user] = nil
        cursorRelayedAt[user] = nil
        if cursors.removeValue(forKey: user) != nil {
            context.broadcast(try .json(CursorBroadcast.leave(user)))
        }
    }

    // MARK: - Frames

    public func onMessage(_ message: ClientMessage, from connection: RoomConnection, context: isolated RoomContext)
        async throws
    {
        let command = try message.decodeJSON(DocumentCommand.self)
        // Every error this turn answers names the frame (an `op`'s id), even a malformed op's.
        context.currentFrameID = command.id
        switch command.type {
        case "op": try receive(message, from: connection, context: context)
        case "cursor": try moveCursor(try message.decodeJSON(CursorFrame.self), from: connection, context: context)
        default:
            throw RoomError.badRequest(.unknownType, "a doc room accepts op and cursor frames")
        }
    }

    /// Transforms, applies and stores an operation; acknowledges it and sends it to the others.
    private func receive(_ message: ClientMessage, from connection: RoomConnection, context: isolated RoomContext)
        throws
    {
        if case .text(let raw) = message, raw.utf8.count > options.maxOperationBytes {
            throw RoomError.tooLarge(
                .operationTooLarge, "an op frame may be \(options.maxOperationBytes) bytes; this one is \(raw.utf8.count)")
        }
        let frame = try message.decodeJSON(OperationFrame.self)
        guard !frame.id.isEmpty, frame.id.utf8.count <= 128 else {
            throw RoomError.badRequest(.invalidField, "'id' must be 1 to 128 bytes")
        }
        if let stored: Int64 = try context.storage.fetchOne(
            "SELECT version FROM operation_ids WHERE user = ? AND id = ?", arguments: [connection.user, frame.id])?["version"]
        {
            context.send(try .json(OperationAck(id: frame.id, version: stored)), to: connection)
            return
        }
        guard frame.base <= version else {
            throw RoomError.badRequest(.versionAhead, "base \(frame.base) is ahead of the document's version \(version)")
        }
        guard frame.base >= oldestResumable else {
            throw RoomError(
                .conflict, .versionGone,
                "base \(frame.base) is older than the oldest version the room keeps a log from (\(oldestResumable)); reload the document")
        }
        let operation = try transformed(frame.ops, from: frame.base)
        var next = text
        try next.apply(operation, maxBytes: options.maxDocumentBytes)

        let logged = LoggedOperation(
            version: try context.nextSequence(), id: frame.id, user: connection.user, operation: operation)
        try context.storage.execute(
            "INSERT INTO operations (version, id, user, ops, ts) VALUES (?, ?, ?, ?, ?)",
            arguments: [
                logged.version, logged.id, logged.user, String(decoding: try operation.encodedWhole(), as: UTF8.self),
                context.now(),
            ])
        try context.storage.execute(
            "INSERT INTO operation_ids (user, id, version) VALUES (?, ?, ?)",
            arguments: [logged.user, logged.id, logged.version])
        if logged.version - snapshotVersion >= Int64(options.snapshotEvery) {
            try storeSnapshot(of: next, at: logged.version, context: context)
        }
        text = next
        version = logged.version
        log.append(logged)
        compactLog()
        context.send(try .json(OperationAck(id: frame.id, version: logged.version)), to: connection)
        context.broadcast(try .json(OperationBroadcast(logged)), except: connection)
    }

    /// `operation`, made on version `base`, transformed against every operation committed since.
    ///
    /// A function of its own so that the slice of the log it reads is gone before the caller
    /// appends to the log (alive, it would make the append copy the whole log).
    private func transformed(_ operation: TextOperation, from base: Int64) throws -> TextOperation {
        let concurrent = missed(after: base)
        let length = concurrent.reduce(text.count) { $0 - ($1.operation.targetLength - $1.operation.baseLength) }
        guard operation.baseLength <= length else {
            throw RoomError.badRequest(
                .invalidOperation,
                "the operation spans \(operation.baseLength) positions but the document at version \(base) has \(length)")
        }
        var operation = operation
        operation.retain(length - operation.baseLength)
        for committed in concurrent {
            operation = TextOperation.transform(operation, committed.operation).0
        }
        return operation
    }

    /// Moves a cursor to the current version and relays it, at most once per interval per user.
    private func moveCursor(_ frame: CursorFrame, from connection: RoomConnection, context: isolated RoomContext)
        throws
    {
        guard frame.version <= version else {
            throw RoomError.badRequest(.versionAhead, "version \(frame.version) is ahead of the document's \(version)")
        }
        guard frame.version >= oldestResumable else {
            throw RoomError(.conflict, .versionGone, "version \(frame.version) is older than the room's log")
        }
        let cursor = CursorBroadcast(user: connection.user, anchor: frame.anchor, head: frame.head, version: frame.version)
        guard let moved = moved(cursor) else { return }
        let user = connection.user
        let interval = Duration.milliseconds(options.cursorIntervalMilliseconds)
        if let last = cursorRelayedAt[user], ContinuousClock.now - last < interval {
            if waitingCursors[user] == nil, waitingCursors.isEmpty {
                context.setTimer("cursors", after: interval - (ContinuousClock.now - last))
            }
            waitingCursors[user] = (moved, connection)
            return
        }
        try relay(moved, from: connection, context: context)
    }

    public func onTimer(_ name: String, context: isolated RoomContext) async throws {
        guard name == "cursors" else { return }
        let interval = Duration.milliseconds(options.cursorIntervalMilliseconds)
        var soonest: Duration?
        for (user, waiting) in waitingCursors {
            let elapsed = cursorRelayedAt[user].map { ContinuousClock.now - $0 } ?? interval
            if elapsed >= interval {
                waitingCursors[user] = nil
                if let moved = moved(waiting.cursor) { try relay(moved, from: waiting.from, context: context) }
            } else {
                soonest = min(soonest ?? interval, interval - elapsed)
            }
        }
        if let soonest { context.setTimer("cursors", after: soonest) }
    }

    private func relay(_ cursor: CursorBroadcast, from connection: RoomConnection, context: isolated RoomContext)
        throws
    {
        cursors[cursor.user] = cursor
        cursorRelayedAt[cursor.user] = ContinuousClock.now
        context.broadcast(try .json(cursor), except: connection)
    }

    /// `cursor` moved through the operations after its version, clamped to the text; nil when the
    /// log no longer reaches back to it.
    private func moved(_ cursor: CursorBroadcast) -> CursorBroadcast? {
        guard let from = cursor.version, from >= oldestResumable, var anchor = cursor.anchor, var head = cursor.head
        else { return nil }
        for logged in missed(after: from) {
            anchor = logged.operation.transform(position: anchor)
            head = logged.operation.transform(position: head)
        }
        var result = cursor
        result.anchor = min(max(anchor, 0), text.count)
        result.head = min(max(head, 0), text.count)
        result.version = version
        return result
    }

    // MARK: - HTTP

    public func onRequest(_ request: RoomRequest, context: isolated RoomContext) async throws -> RoomResponse {
        switch (request.method, request.path) {
        case ("GET", ["text"]):
            let wanted = try request.integer("version", in: 0...Int64.max) ?? version
            return try .json(TextAtVersion(version: wanted, text: try self.text(at: wanted, context: context)))
        case ("GET", ["versions"]):
            let limit = try request.integer("limit", in: 1...1000) ?? 100
            let before = try request.integer("before", in: 0...Int64.max) ?? Int64.max
            let rows = try context.storage.fetchAll(
                "SELECT version, ts, text FROM snapshots WHERE version < ? ORDER BY version DESC LIMIT ?",
                arguments: [before, limit])
            let snapshots = rows.map { row in
                DocumentSnapshot(version: row["version"], ts: row["ts"], length: (row["text"] as String).utf16.count)
            }
            return try .json(VersionList(version: version, snapshots: snapshots))
        default:
            throw RoomError.notFound(
                .notFound, "a doc room answers GET /rooms/{kind}/{id}/text and GET /rooms/{kind}/{id}/versions")
        }
    }

    /// The text at `wanted`: the nearest snapshot at or before it, with the log after it applied.
    private func text(at wanted: Int64, context: isolated RoomContext) throws -> String {
        if wanted == version { return text.string }
        guard wanted < version else {
            throw RoomError.notFound(.versionAhead, "version \(wanted) is ahead of the document's \(version)")
        }
        let snapshot = try context.storage.fetchOne(
            "SELECT version, text FROM snapshots WHERE version <= ? ORDER BY version DESC LIMIT 1", arguments: [wanted])
        let base: Int64 = snapshot?["version"] ?? 0
        guard base == wanted || base >= oldestResumable else {
            throw RoomError.notFound(
                .versionGone,
                "version \(wanted) is not kept: the log starts after \(oldestResumable); GET .../versions lists the snapshots")
        }
        var rebuilt = DocumentText(snapshot?["text"] ?? "")
        for logged in missed(after: base) where logged.version <= wanted {
            try rebuilt.apply(logged.operation)
        }
        return rebuilt.string
    }

    // MARK: - The log

    /// The oldest version a client can resume or base an operation on: every operation after it
    /// is in the log.
    private var oldestResumable: Int64 {
        guard let first = log.first else { return version }
        return first.version - 1
    }

    /// The logged operations after `base`, oldest first.
    private func missed(after base: Int64) -> ArraySlice<LoggedOperation> {
        guard let first = log.first else { return [] }
        let start = Int(max(base + 1 - first.version, 0))
        return start < log.count ? log[start...] : []
    }

    /// The stored log, oldest first.
    private func loadOperations(context: isolated RoomContext) throws -> [LoggedOperation] {
        let decoder = JSONDecoder()
        return try context.storage.fetchAll("SELECT version, id, user, ops FROM operations ORDER BY version").map { row in
            LoggedOperation(
                version: row["version"], id: row["id"], user: row["user"],
                operation: try decoder.decode(TextOperation.self, from: Data((row["ops"] as String).utf8)))
        }
    }

    /// Stores `text` as the snapshot of `version` and drops what the log no longer needs: the
    /// operations up to the newest snapshot at least `keepVersions` behind this one. Cutting the
    /// log at a snapshot keeps every version from there on readable (that snapshot plus the log).
    private func storeSnapshot(of text: DocumentText, at version: Int64, context: isolated RoomContext) throws {
        try context.storage.execute(
            "INSERT INTO snapshots (version, text, ts) VALUES (?, ?, ?)", arguments: [version, text.string, context.now()])
        snapshotVersion = version
        guard
            let cut: Int64 = try context.storage.fetchOne(
                "SELECT max(version) AS cut FROM snapshots WHERE version <= ?",
                arguments: [version - Int64(options.keepVersions)])?["cut"]
        else { return }
        try context.storage.execute("DELETE FROM operations WHERE version <= ?", arguments: [cut])
        try context.storage.execute(
            "DELETE FROM operation_ids WHERE version <= ?",
            arguments: [version - max(Int64(options.keepVersions), Self.rememberedIDs)])
        logCut = cut
    }

    /// Drops from memory the operations ``storeSnapshot(of:at:context:)`` dropped from storage.
    private func compactLog() {
        if let first = log.first, first.version <= logCut {
            log.removeFirst(Int(min(logCut - first.version + 1, Int64(log.count))))
        }
    }
}
