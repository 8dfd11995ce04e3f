public import ChatRooms
import DequeModule
import Foundation
import GRDB
import Logging
public import RoomRuntime

/// The `ai-chat` room class: a chat room with an assistant in it.
///
/// Everything the `chat` class does works here (sends, history, presence, scheduled messages).
/// In addition, `{"type": "ai.prompt", "id", "text"}` is stored as an ordinary message (acked,
/// broadcast) and starts an answer from the kind's model provider, with the system prompt and the
/// room's recent history as context. The answer streams to every connection as `ai.start`, then
/// `ai.delta` frames, then `ai.end`, and is stored in history as a message of the assistant with
/// its `status`. A connection that joins mid-answer gets `ai.resume` with the text so far.
///
/// - One answer at a time: prompts that arrive meanwhile wait in a queue (stored, so that a
///   restart still answers them), up to `maxQueuedPrompts`; more are refused with `ai_busy`.
/// - `{"type": "ai.cancel", "stream"}` stops the answer; what was produced is stored as `cancelled`.
/// - The answer's progress is committed every `checkpointMilliseconds`: after a crash the partial
///   answer is in history as `interrupted`. A room that leaves memory mid-answer (shutdown,
///   eviction) stores it the same way and tells its clients with `ai.error` `interrupted`; an
///   answer interrupted before it produced anything goes back to the head of the queue instead.
/// - While answers are owed, a durable schedule (``pendingSchedule``) exists: after a crash or a
///   restart the node itself wakes the room to answer its queued prompts, with no client needed.
/// - A provider failure ends the answer with `ai.error` and `ai.end` status `error`; the room
///   stays usable.
///
/// The model's stream is read by work the runtime runs outside the room's turns
/// (``RoomContext/startWork(_:keepsActive:_:)``); each delta comes back to the room as a turn of
/// its own, so chat traffic interleaves freely and every frame is sent in order, after the commit
/// of what it reports.
public final class AIChatRoom: Room {
    public static let className = "ai-chat"

    /// The schedule that exists while the room owes answers (one streaming, or prompts queued):
    /// it fires every ``pendingCheckInterval`` and starts the next answer when none streams, so
    /// that queued prompts are answered after a restart even if nothing else wakes the room.
    ///
    /// It is created when answers become owed and dropped by its own firing once none is (or at
    /// hibernation), not after every answer: creating a schedule writes the node directory
    /// durably, which a room answering prompt after prompt should not pay for each one.
    public static let pendingSchedule = "ai.pending"
    /// How often ``pendingSchedule`` fires while the room is in memory: after a crash, the
    /// longest a restarted node waits before it answers the prompts owed. (Each firing is a turn
    /// and a commit; every second cost streaming rooms measurable token latency.)
    static let pendingCheckInterval = Duration.seconds(10)
    /// How soon a room that left memory owing answers (shutdown, eviction) is woken to resume.
    static let resumeDelay = Duration.seconds(1)

    /// The fields an assistant's answer carries in `messages`, history and frames.
    static let answerFields = [
        ChatField(column: "stream", name: "stream", type: .text),
        ChatField(column: "reply_to", name: "replyTo", type: .integer),
        ChatField(column: "status", name: "status", type: .text),
    ]

    public static var migrations: RoomMigrations {
        var migrations = RoomMigrations()
        ChatRoom.addMessageMigrations(to: &migrations)
        migrations.add("ai-v1") { db in
            try db.execute(
                sql: """
                    ALTER TABLE messages ADD COLUMN stream TEXT;
                    ALTER TABLE messages ADD COLUMN reply_to INTEGER;
                    ALTER TABLE messages ADD COLUMN status TEXT;
                    CREATE TABLE ai_streams (
                        stream TEXT PRIMARY KEY,
                        reply_to INTEGER NOT NULL,
                        text TEXT NOT NULL,
                        started_at INTEGER NOT NULL
                    ) STRICT;
                    CREATE TABLE ai_queue (prompt_seq INTEGER PRIMARY KEY) STRICT;
                    """)
        }
        ChatRoom.addDeliveryMigrations(to: &migrations)
        return migrations
    }

    /// Readers of a members room mark what they read.
    public static var readerFrameTypes: Set<String> { ChatRoom.readerFrameTypes }

    let options: AIChatOptions
    let log: ChatLog
    let chat: ChatRoom
    let provider: any ModelProvider
    /// The answer streaming now.
    var current: Generation?
    /// The prompts waiting for an answer, oldest first (a copy of `ai_queue`).
    var queue = Deque<Int64>()
    /// Whether ``pendingSchedule`` exists.
    var pendingScheduled = false

    public init(options: AIChatOptions) {
        self.options = options
        log = ChatLog(options: options.chat, fields: Self.answerFields)
        chat = ChatRoom(log: log)
        provider = options.provider.makeProvider()
    }

    // MARK: - Hooks

    public func onStart(_ activation: Activation, context: isolated RoomContext) async throws {
        try await chat.onStart(activation, context: context)
        // Answers that were streaming when the node stopped: what they produced goes to history
        // as interrupted; one that produced nothing is owed in full, its prompt queued again.
        for row in try context.storage.fetchAll("SELECT * FROM ai_streams ORDER BY started_at") {
            let text: String = row["text"]
            if text.isEmpty {
                try context.storage.execute(
                    "INSERT OR IGNORE INTO ai_queue (prompt_seq) VALUES (?)", arguments: [row["reply_to"] as Int64])
            } else {
                try storeAnswer(
                    stream: row["stream"], replyTo: row["reply_to"], text: text, status: "interrupted", context: context)
            }
        }
        try context.storage.execute("DELETE FROM ai_streams")
        queue = Deque(try context.storage.fetchAll("SELECT prompt_seq FROM ai_queue ORDER BY prompt_seq").map { $0[0] })
        pendingScheduled = try context.schedules().contains { $0.name == Self.pendingSchedule }
        // The next answer starts from the schedule, once the room is active.
        try keepPendingSchedule(context: context)
    }

    public func replay(after seq: Int64, context: isolated RoomContext) async throws -> [OutboundFrame]? {
        try await chat.replay(after: seq, context: context)
    }

    public func welcome(for connection: RoomConnection, context: isolated RoomContext) async throws
        -> [String: JSONValue]
    {
        try await chat.welcome(for: connection, context: context)
    }

    public func onTimer(_ name: String, context: isolated RoomContext) async throws {
        try await chat.onTimer(name, context: context)
    }

    public func onMembersChanged(_ changes: [MemberChange], context: isolated RoomContext) async throws {
        try await chat.onMembersChanged(changes, context: context)
    }

    public func onConnect(_ connection: RoomConnection, context: isolated RoomContext) async throws {
        try await chat.onConnect(connection, context: context)
        if let current {
            context.send(
                try .json(
                    AIResumeFrame(
                        stream: current.stream, replyTo: current.replyTo, text: current.text, index: current.nextIndex)),
                to: connection)
        }
    }

    public func onClose(_ connection: RoomConnection, context: isolated RoomContext) async throws {
        try await chat.onClose(connection, context: context)
    }

    public func onMessage(_ message: ClientMessage, from connection: RoomConnection, context: isolated RoomContext)
        async throws
    {
        let frame = try message.decodeJSON(AIClientFrame.self)
        context.currentFrameID = frame.id
        switch frame.type {
        case "ai.prompt":
            try prompt(frame, from: connection, context: context)
        case "ai.cancel":
            guard let stream = frame.stream else {
                throw RoomError.badRequest(.missingField, "'stream' is required")
            }
            guard let generation = current, generation.stream == stream else {
                throw RoomError.notFound(.streamNotFound, "no answer is streaming as '\(stream)'")
            }
            if let work = generation.work { context.cancelWork(work) }
            try finish(stream, status: "cancelled", error: nil, context: context)
        case "send", "read", "typing":
            try await chat.onMessage(message, from: connection, context: context)
        default:
            throw RoomError.badRequest(
                .unknownType, "unknown frame type '\(frame.type)'; expected send, read, typing, ai.prompt or ai.cancel")
        }
    }

    public func onRequest(_ request: RoomRequest, context: isolated RoomContext) async throws -> RoomResponse {
        try await chat.onRequest(request, context: context)
    }

    public func onSchedule(_ fire: ScheduleFire, context: isolated RoomContext) async throws {
        guard fire.name == Self.pendingSchedule else {
            try await chat.onSchedule(fire, context: context)
            return
        }
        // The one-shot set at hibernation is done once it fires: the repeating one takes over.
        if !fire.isRepeating { pendingScheduled = false }
        if current == nil { try startNextAnswer(context: context) }
        try keepPendingSchedule(context: context, dropping: true)
    }

    public func onHibernate(context: isolated RoomContext) async throws {
        // The runtime has cancelled the work reading the provider; the answer ends here.
        if let generation = current {
            try finish(
                generation.stream, status: "interrupted",
                error: ModelError(.interrupted, "the room left memory while the answer streamed"), context: context)
        }
        if queue.isEmpty {
            try keepPendingSchedule(context: context, dropping: true)
        } else {
            // Answers are owed: the node wakes the room again soon to give them.
            try context.schedule(Self.pendingSchedule, .after(Self.resumeDelay), retry: .never)
            pendingScheduled = true
        }
    }

    // MARK: - Prompts

    private func prompt(_ frame: AIClientFrame, from connection: RoomConnection, context: isolated RoomContext) throws {
        let text = try log.validText(frame.text)
        let id = try log.validID(frame.id)
        if let stored = try log.message(user: connection.user, id: id, context: context) {
            context.send(try .json(PromptAck(id: stored.id, seq: stored.seq, duplicate: true)), to: connection)
            return
        }
        let busy = current != nil || !queue.isEmpty
        if busy, queue.count >= options.maxQueuedPrompts {
            throw RoomError(
                .conflict, .aiBusy,
                "the assistant is answering and \(queue.count) prompt\(queue.count == 1 ? "" : "s") wait; try again later")
        }
        let (stored, _) = try log.store(user: connection.user, id: id, text: text, context: context)
        try chat.didStore(stored, context: context)
        context.send(try .json(PromptAck(id: stored.id, seq: stored.seq, duplicate: nil)), to: connection)
        context.broadcast(MessageFrame(stored).frame)
        if busy {
            try context.storage.execute("INSERT INTO ai_queue (prompt_seq) VALUES (?)", arguments: [stored.seq])
            queue.append(stored.seq)
            context.broadcast(try .json(AIQueuedFrame(replyTo: stored.seq, position: queue.count)))
            if current == nil { try startNextAnswer(context: context) }
        } else {
            try start(replyTo: stored.seq, context: context)
        }
        try keepPendingSchedule(context: context)
    }

    /// Starts the oldest queued prompt, if no answer is streaming.
    func startNextAnswer(context: isolated RoomContext) throws {
        guard current == nil, let next = queue.popFirst() else { return }
        try context.storage.execute("DELETE FROM ai_queue WHERE prompt_seq = ?", arguments: [next])
        try start(replyTo: next, context: context)
    }

    /// Creates ``pendingSchedule`` when answers are owed; with `dropping` (its own firing, or
    /// hibernation), drops it once none is.
    func keepPendingSchedule(context: isolated RoomContext, dropping: Bool = false) throws {
        let owed = current != nil || !queue.isEmpty
        if owed, !pendingScheduled {
            try context.schedule(Self.pendingSchedule, .every(Self.pendingCheckInterval), retry: .never)
            pendingScheduled = true
        } else if !owed, pendingScheduled, dropping {
            try context.cancelSchedule(Self.pendingSchedule)
            pendingScheduled = false
        }
    }
}

extension RoomError.Code {
    /// The assistant is answering and the queue of prompts is full.
    public static let aiBusy: Self = "ai_busy"
    /// `ai.cancel` named a stream that is not streaming.
    public static let streamNotFound: Self = "stream_not_found"
}
