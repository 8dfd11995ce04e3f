package import ChatRooms
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
///   eviction) stores it the same way and tells its clients with `ai.error` `interrupted`.
/// - A provider failure ends the answer with `ai.error` and `ai.end` status `error`; the room
///   stays usable.
///
/// The model's stream is read by a task outside the room's turns; each delta comes back to the
/// room as a turn of its own (``RoomContext/enqueue(_:_:)``), so chat traffic interleaves freely
/// and every frame is sent in order, after the commit of what it reports.
public final class AIChatRoom: Room {
    public static let className = "ai-chat"

    public static var migrations: RoomMigrations {
        var migrations = ChatRoom.migrations
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
        return migrations
    }

    private let options: AIChatOptions
    private let chat: ChatRoom
    private let provider: any ModelProvider
    private var current: Generation?
    private var queue = Deque<Int64>()

    public init(options: AIChatOptions) {
        self.options = options
        chat = ChatRoom(options: options.chat)
        provider = options.provider.makeProvider()
    }

    // MARK: - Hooks

    public func onStart(_ activation: Activation, context: isolated RoomContext) async throws {
        // Answers that were streaming when the node died: their last checkpoint goes to history.
        for row in try context.storage.fetchAll("SELECT * FROM ai_streams ORDER BY started_at") {
            try storeAnswer(
                stream: row["stream"], replyTo: row["reply_to"], text: row["text"], status: "interrupted",
                context: context)
        }
        try context.storage.execute("DELETE FROM ai_streams")
        queue = Deque(try context.storage.fetchAll("SELECT prompt_seq FROM ai_queue ORDER BY prompt_seq").map { $0[0] })
        try startNextAnswer(context: context)
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
            guard var generation = current, generation.stream == stream else {
                throw RoomError.notFound(.streamNotFound, "no answer is streaming as '\(stream)'")
            }
            generation.task?.cancel()
            try finish(stream, status: "cancelled", error: nil, context: context)
        case "send":
            try await chat.onMessage(message, from: connection, context: context)
        default:
            throw RoomError.badRequest(
                .unknownType, "unknown frame type '\(frame.type)'; expected send, ai.prompt or ai.cancel")
        }
    }

    public func onRequest(_ request: RoomRequest, context: isolated RoomContext) async throws -> RoomResponse {
        try await chat.onRequest(request, context: context)
    }

    public func onSchedule(_ fire: ScheduleFire, context: isolated RoomContext) async throws {
        try await chat.onSchedule(fire, context: context)
    }

    public func onHibernate(context: isolated RoomContext) async throws {
        guard let generation = current else { return }
        generation.task?.cancel()
        try finish(
            generation.stream, status: "interrupted",
            error: ModelError(.interrupted, "the room left memory while the answer streamed; send the prompt again"),
            context: context)
    }

    // MARK: - Prompts and answers

    private func prompt(_ frame: AIClientFrame, from connection: RoomConnection, context: isolated RoomContext) throws {
        let text = try chat.validText(frame.text)
        let id = try chat.validID(frame.id)
        if let stored = try chat.message(user: connection.user, id: id, context: context) {
            context.send(try .json(PromptAck(id: stored.id, seq: stored.seq, duplicate: true)), to: connection)
            return
        }
        if current != nil, queue.count >= options.maxQueuedPrompts {
            throw RoomError(
                .conflict, .aiBusy,
                "the assistant is answering and \(queue.count) prompt\(queue.count == 1 ? "" : "s") wait; try again later")
        }
        let (stored, _) = try chat.store(user: connection.user, id: id, text: text, context: context)
        context.send(try .json(PromptAck(id: stored.id, seq: stored.seq, duplicate: nil)), to: connection)
        context.broadcast(MessageFrame(stored).frame)
        if current == nil {
            try start(replyTo: stored.seq, context: context)
        } else {
            try context.storage.execute("INSERT INTO ai_queue (prompt_seq) VALUES (?)", arguments: [stored.seq])
            queue.append(stored.seq)
            context.broadcast(try .json(AIQueuedFrame(replyTo: stored.seq, position: queue.count)))
        }
    }

    /// Starts answering prompt `replyTo`: records the stream, tells everyone, and starts reading
    /// the provider in a task of its own.
    private func start(replyTo: Int64, context: isolated RoomContext) throws {
        let stream = "s-" + String(UUID().uuidString.lowercased().prefix(13))
        try context.storage.execute(
            "INSERT INTO ai_streams (stream, reply_to, text, started_at) VALUES (?, ?, '', ?)",
            arguments: [stream, replyTo, context.now()])
        let request = try modelRequest(replyTo: replyTo, context: context)
        context.broadcast(try .json(AIStartFrame(stream: stream, replyTo: replyTo)))
        var generation = Generation(stream: stream, replyTo: replyTo)
        generation.task = Self.relay(provider.stream(request), stream: stream, to: context)
        current = generation
        context.keepsActive = true
    }

    /// Starts the task that reads the provider's deltas and queues each as a turn of the room,
    /// then the end.
    private nonisolated static func relay(
        _ deltas: AsyncThrowingStream<String, any Error>, stream: String, to context: RoomContext
    ) -> Task<Void, Never> {
        Task.detached { await relayDeltas(deltas, stream: stream, to: context) }
    }

    private nonisolated static func relayDeltas(
        _ deltas: AsyncThrowingStream<String, any Error>, stream: String, to context: RoomContext
    ) async {
        var outcome: ModelError?
        do {
            for try await delta in deltas {
                guard !Task.isCancelled else { return }
                let queued = context.enqueue(AIChatRoom.self) { room, context in
                    try room.append(delta, to: stream, context: context)
                }
                guard queued else { return }  // the room left memory; its onHibernate ended the answer
            }
            guard !Task.isCancelled else { return }
        } catch let error as ModelError {
            outcome = error
        } catch {
            outcome = ModelError(.providerError, "\(error)")
        }
        let failure = outcome
        context.enqueue(AIChatRoom.self) { room, context in
            try room.finish(stream, status: failure == nil ? "complete" : "error", error: failure, context: context)
        }
    }

    /// One delta: appended, broadcast, and checkpointed when one is due.
    private func append(_ delta: String, to stream: String, context: isolated RoomContext) throws {
        guard var generation = current, generation.stream == stream else { return }
        generation.text += delta
        context.broadcast(AIDeltaFrame(stream: stream, index: generation.nextIndex, text: delta).frame)
        generation.nextIndex += 1
        if ContinuousClock.now - generation.checkpointedAt >= .milliseconds(options.checkpointMilliseconds) {
            try context.storage.execute(
                "UPDATE ai_streams SET text = ? WHERE stream = ?", arguments: [generation.text, stream])
            generation.checkpointedAt = .now
        }
        current = generation
    }

    /// Ends the answer on `stream`: stores it with `status`, tells everyone, starts the next one.
    private func finish(_ stream: String, status: String, error: ModelError?, context: isolated RoomContext) throws {
        guard let generation = current, generation.stream == stream else { return }
        let stored = try storeAnswer(
            stream: stream, replyTo: generation.replyTo, text: generation.text, status: status, context: context)
        try context.storage.execute("DELETE FROM ai_streams WHERE stream = ?", arguments: [stream])
        if let error {
            context.broadcast(try .json(AIErrorFrame(stream: stream, code: error.code.rawValue, message: error.message)))
            context.logger.warning(
                "an answer failed", metadata: ["stream": "\(stream)", "code": "\(error.code.rawValue)", "error": "\(error.message)"])
        }
        // `interrupted` is how history records it; the stream itself ended in an error.
        context.broadcast(
            try .json(AIEndFrame(stream: stream, seq: stored.seq, status: status == "interrupted" ? "error" : status)))
        context.broadcast(MessageFrame(stored).frame)
        current = nil
        context.keepsActive = false
        if status != "interrupted" { try startNextAnswer(context: context) }
    }

    /// Starts the oldest queued prompt, if no answer is streaming.
    private func startNextAnswer(context: isolated RoomContext) throws {
        guard current == nil, let next = queue.popFirst() else { return }
        try context.storage.execute("DELETE FROM ai_queue WHERE prompt_seq = ?", arguments: [next])
        try start(replyTo: next, context: context)
    }

    /// Stores an answer in history as the assistant's message.
    @discardableResult
    private func storeAnswer(
        stream: String, replyTo: Int64, text: String, status: String, context: isolated RoomContext
    ) throws -> ChatMessage {
        let message = ChatMessage(
            seq: try context.nextSequence(), id: "ai-\(stream)", user: options.assistantName, text: text,
            ts: context.now(), stream: stream, replyTo: replyTo, status: status)
        try context.storage.execute(
            """
            INSERT INTO messages (seq, id, user, text, ts, stream, reply_to, status)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?)
            """,
            arguments: [
                message.seq, message.id, message.user, message.text, message.ts, stream, replyTo, status,
            ])
        return message
    }

    /// The conversation sent to the model for prompt `replyTo`: the system prompt, then the most
    /// recent messages up to the prompt, within the kind's budget of messages and bytes.
    private func modelRequest(replyTo: Int64, context: isolated RoomContext) throws -> ModelRequest {
        let rows = try context.storage.fetchAll(
            "SELECT * FROM messages WHERE seq <= ? ORDER BY seq DESC LIMIT ?",
            arguments: [replyTo, options.contextMessages])
        var history: [ModelMessage] = []
        var bytes = 0
        for row in rows {
            let message = try ChatRoom.message(from: row)
            bytes += message.text.utf8.count
            if bytes > options.contextBytes, !history.isEmpty { break }
            history.append(
                message.stream != nil
                    ? ModelMessage(role: .assistant, content: message.text)
                    : ModelMessage(role: .user, content: "\(message.user): \(message.text)"))
        }
        return ModelRequest(messages: [ModelMessage(role: .system, content: options.systemPrompt)] + history.reversed())
    }
}

extension RoomError.Code {
    /// The assistant is answering and the queue of prompts is full.
    public static let aiBusy: Self = "ai_busy"
    /// `ai.cancel` named a stream that is not streaming.
    public static let streamNotFound: Self = "stream_not_found"
}
