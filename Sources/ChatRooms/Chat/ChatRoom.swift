import Foundation
import GRDB
import Logging
public import RoomRuntime

/// The `chat` room class: durable, ordered group chat.
///
/// Every message gets the room's next sequence number, is committed to the room's SQLite file, and
/// only then is acknowledged to its sender and broadcast to every connection, sender included.
/// History is served over HTTP (`GET /rooms/{kind}/{id}/messages`), and messages can be posted
/// over HTTP too.
///
/// Beyond messages:
/// - presence per user (a user's first connection joins, their last one leaves; counts above the
///   kind's `presenceLimit`), and the `welcome` lists who is `present`;
/// - `typing`, relayed and never stored;
/// - read receipts: `{"type": "read", "seq"}` moves the sender's read cursor forward, `receipt`
///   frames tell the room, `GET .../receipts` lists every cursor with its `unread`, and the
///   `welcome` carries the connecting user's `readSeq` and `unread`;
/// - in `members` and `direct` kinds: members' inboxes (``InboxRoom``) kept up to date through a
///   durable outbox, and offline push when the node has a ``PushService``.
///
/// A message id is the sender's: sending the same id twice (a retry after a reconnect, say) stores
/// the message once and acknowledges both with the same `seq`, the second marked `duplicate`.
///
/// A `send` with `deliverAt` (ms since 1970) is a scheduled message: acknowledged at once with
/// `"scheduled": true`, then stored and broadcast at its time by a durable room schedule.
///
/// The frames and codes are documented in `docs/PROTOCOL.md`.
public final class ChatRoom: Room {
    public static let className = "chat"

    /// The longest client-chosen message id, in UTF-8 bytes.
    public static let maxIDBytes = ChatLog.maxIDBytes

    public static var migrations: RoomMigrations {
        var migrations = RoomMigrations()
        addMessageMigrations(to: &migrations)
        addDeliveryMigrations(to: &migrations)
        return migrations
    }

    /// The chat's first steps: the messages, and scheduled messages (`v1`, `v2-scheduled`).
    public static func addMessageMigrations(to migrations: inout RoomMigrations) {
        ChatLog.addMigrations(to: &migrations)
        migrations.add("v2-scheduled") { db in
            try db.execute(
                sql: """
                    CREATE TABLE scheduled_messages (
                        number INTEGER PRIMARY KEY,
                        id TEXT NOT NULL,
                        user TEXT NOT NULL,
                        text TEXT NOT NULL,
                        deliver_at INTEGER NOT NULL
                    ) STRICT;
                    CREATE UNIQUE INDEX scheduled_by_sender_id ON scheduled_messages (user, id);
                    """)
        }
    }

    /// What the chat delivers beyond its messages: read cursors, the inbox outbox, offline push
    /// (`v3-read-cursors`, `v4-inbox-outbox`, `v5-push`). A class composing the chat adds them
    /// after its own steps that shipped before them.
    public static func addDeliveryMigrations(to migrations: inout RoomMigrations) {
        ReadCursors.addMigrations(to: &migrations)
        addInboxMigrations(to: &migrations)
        addPushMigrations(to: &migrations)
    }

    /// Readers of a members room mark what they read.
    public static var readerFrameTypes: Set<String> { ["read"] }

    /// The kind's options.
    public let options: ChatOptions
    /// The room's history.
    public let log: ChatLog

    public init(options: ChatOptions) {
        self.options = options
        self.log = ChatLog(options: options)
    }

    /// The shortest time between two `typing` frames relayed for one user, in milliseconds.
    public static let typingInterval: Int64 = 2_000
    /// When each user's last `typing` frame was relayed (memory only: typing is never stored).
    private var lastTyping: [String: Int64] = [:]
    /// The users online (built on first use).
    var online: OnlineUsers?
    /// Whether the room sends `count` frames instead of joins and leaves.
    var presenceCounting = false
    /// When the last `count` frame went out.
    var presenceCountSentAt: Int64?
    /// The receipts waiting for their interval.
    lazy var receipts = ReceiptThrottle(intervalMilliseconds: options.receiptIntervalMilliseconds)
    /// Whether a round of inbox deliveries is running (it waits in calls).
    var deliveringInboxes = false
    /// Whether more became owed to inboxes while a round ran.
    var inboxesOwedAgain = false
    /// Whether ``outboxSchedule`` exists (nil until read).
    var outboxScheduled: Bool?
    /// The push deliveries being attempted, by id.
    var pushesInFlight: [String: WorkHandle] = [:]

    /// A chat room keeping its history in `log` (whose fields a composing class chose).
    public init(log: ChatLog) {
        self.options = log.options
        self.log = log
    }

    public func replay(after seq: Int64, context: isolated RoomContext) async throws -> [OutboundFrame]? {
        try log.replay(after: seq, context: context)
    }

    public func onStart(_ activation: Activation, context: isolated RoomContext) async throws {
        // What a crash or a hibernation left owed goes out soon (the durable schedule covers it
        // too, later).
        if try inboxesOwed(context: context) {
            context.setTimer(Self.inboxTimer, after: .milliseconds(options.inboxDelayMilliseconds))
        }
        if try pushesOwed(context: context) {
            context.setTimer(Self.pushTimer, after: .zero)
        }
    }

    /// The connecting user's `readSeq` and `unread`, who is `present` and how many are `online`.
    public func welcome(for connection: RoomConnection, context: isolated RoomContext) async throws
        -> [String: JSONValue]
    {
        let readSeq = try ReadCursors.readSeq(of: connection.user, context: context)
        var fields = presenceWelcome(for: connection, context: context)
        fields["readSeq"] = .number(Double(readSeq))
        fields["unread"] = .number(Double(try ReadCursors.unread(for: connection.user, after: readSeq, context: context)))
        return fields
    }

    public func onConnect(_ connection: RoomConnection, context: isolated RoomContext) async throws {
        try presenceOpened(connection, context: context)
    }

    public func onClose(_ connection: RoomConnection, context: isolated RoomContext) async throws {
        try presenceClosed(connection, context: context)
    }

    public func onTimer(_ name: String, context: isolated RoomContext) async throws {
        switch name {
        case Self.receiptTimer: try receiptTimerFired(context: context)
        case Self.presenceTimer: try presenceTimerFired(context: context)
        case Self.inboxTimer: try await deliverInboxes(context: context)
        case Self.pushTimer: try sendPushes(context: context)
        default: context.logger.warning("unknown timer", metadata: ["timer": "\(name)"])
        }
    }

    public func onMembersChanged(_ changes: [MemberChange], context: isolated RoomContext) async throws {
        try owe(inboxesOf: changes.compactMap { change in
            if case .changed = change { return nil }
            return change.member.user
        }, context: context)
    }

    public func onMessage(_ message: ClientMessage, from connection: RoomConnection, context: isolated RoomContext)
        async throws
    {
        let frame = try message.decodeJSON(ClientFrame.self)
        context.currentFrameID = frame.id
        switch frame.type {
        case "send":
            let text = try log.validText(frame.text)
            let id = try log.validID(frame.id)
            if let deliverAt = frame.deliverAt {
                if let delivered = try log.message(user: connection.user, id: id, context: context) {
                    context.send(AckFrame(id: delivered.id, seq: delivered.seq, duplicate: true).frame, to: connection)
                    return
                }
                let (scheduled, duplicate) = try schedule(
                    user: connection.user, id: id, text: text, deliverAt: deliverAt, context: context)
                context.send(AckFrame(scheduled: scheduled, duplicate: duplicate).frame, to: connection)
                return
            }
            let (stored, duplicate) = try store(user: connection.user, id: id, text: text, context: context)
            context.send(AckFrame(id: stored.id, seq: stored.seq, duplicate: duplicate).frame, to: connection)
            if !duplicate {
                context.broadcast(MessageFrame(stored).frame)
            }
        case "read":
            try read(frame, from: connection, context: context)
        case "typing":
            // Relayed, never stored; a user typing faster than the interval is not relayed again.
            let now = context.now()
            if let last = lastTyping[connection.user], now - last < Self.typingInterval { return }
            lastTyping[connection.user] = now
            context.broadcast(try .json(TypingFrame(user: connection.user)), except: connection)
        default:
            throw RoomError.badRequest(.unknownType, "unknown frame type '\(frame.type)'; expected 'send', 'read' or 'typing'")
        }
    }

    /// The answer to a posted message that is stored: `201`, or `200` with `"duplicate": true` for
    /// an id the room already has. Every post gets one, so it is written directly rather than
    /// through `JSONEncoder`.
    private static func posted(seq: Int64, id: String, duplicate: Bool) -> RoomResponse {
        .jsonObject(status: duplicate ? 200 : 201) { object in
            object.integer("seq", seq)
            object.string("id", id)
            object.bool("duplicate", duplicate ? true : nil)
        }
    }

    public func onRequest(_ request: RoomRequest, context: isolated RoomContext) async throws -> RoomResponse {
        if request.path == ["receipts"] {
            guard request.method == "GET" else {
                throw RoomError(.methodNotAllowed, .methodNotAllowed, "/receipts takes GET")
            }
            if let unknown = request.query.keys.sorted().first(where: { $0 != "user" }) {
                throw RoomError.badRequest(.invalidQuery, "unknown parameter '\(unknown)'; /receipts takes none")
            }
            return try .json(["receipts": receiptList(context: context)])
        }
        if request.path == ["scheduled"] {
            guard request.method == "GET" else {
                throw RoomError(.methodNotAllowed, .methodNotAllowed, "/scheduled takes GET")
            }
            return try .json(["scheduled": scheduledMessages(context: context)])
        }
        guard request.path == ["messages"] else {
            throw RoomError.notFound(.notFound, "no route /\(request.path.joined(separator: "/")) in a chat room")
        }
        switch request.method {
        case "GET":
            return try .json(["messages": log.history(request, context: context)])
        case "POST":
            let posted = try request.decodeJSON(PostedMessage.self)
            let user = try request.user(claimed: posted.user)
            let text = try log.validText(posted.text)
            let id = try log.validID(posted.id)
            if let deliverAt = posted.deliverAt {
                if let delivered = try log.message(user: user, id: id, context: context) {
                    return Self.posted(seq: delivered.seq, id: delivered.id, duplicate: true)
                }
                let (scheduled, duplicate) = try schedule(
                    user: user, id: id, text: text, deliverAt: deliverAt, context: context)
                return try .json(PostResult(scheduled: scheduled, duplicate: duplicate), status: duplicate ? 200 : 202)
            }
            let (stored, duplicate) = try store(user: user, id: id, text: text, context: context)
            if !duplicate {
                context.broadcast(MessageFrame(stored).frame)
            }
            return Self.posted(seq: stored.seq, id: stored.id, duplicate: duplicate)
        default:
            throw RoomError(.methodNotAllowed, .methodNotAllowed, "/messages takes GET or POST")
        }
    }

    public func onSchedule(_ fire: ScheduleFire, context: isolated RoomContext) async throws {
        if fire.name == Self.outboxSchedule {
            try await outboxScheduleFired(context: context)
            return
        }
        guard fire.name.hasPrefix(Self.deliveryPrefix) else {
            context.logger.warning("unknown schedule", metadata: ["schedule": "\(fire.name)"])
            return
        }
        try deliver(fire, context: context)
    }

    // MARK: - Storing and reading

    /// Stores a message, or finds the one `user` already sent with `id`.
    func store(user: String, id: String?, text: String, context: isolated RoomContext) throws
        -> (ChatMessage, duplicate: Bool)
    {
        let (message, duplicate) = try log.store(user: user, id: id, text: text, context: context)
        if !duplicate { try didStore(message, context: context) }
        return (message, duplicate)
    }

    /// Tells the members' inboxes of `message` and owes pushes to those who are away, in the
    /// turn that stored it (nothing in an `open` room). A class composing the chat that stores
    /// messages with ``ChatLog`` itself calls it after each.
    public func didStore(_ message: ChatMessage, context: isolated RoomContext) throws {
        guard try context.hasMembers() else { return }
        try oweEveryInbox(context: context)
        if context.services[PushService.self] != nil {
            try owePushes(for: message, members: try context.members(), context: context)
        }
    }
}
