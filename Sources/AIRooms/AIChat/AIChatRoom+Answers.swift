import ChatRooms
import Foundation
import GRDB
import Logging
import RoomRuntime

/// Answers: starting one, relaying the provider's stream into the room, ending it.
extension AIChatRoom {
    /// Starts answering prompt `replyTo`: records the stream, tells everyone, and starts the work
    /// that reads the provider.
    func start(replyTo: Int64, context: isolated RoomContext) throws {
        let stream = "s-" + String(UUID().uuidString.lowercased().prefix(13))
        try context.storage.execute(
            "INSERT INTO ai_streams (stream, reply_to, text, started_at) VALUES (?, ?, '', ?)",
            arguments: [stream, replyTo, context.now()])
        let request = try modelRequest(replyTo: replyTo, context: context)
        context.broadcast(try .json(AIStartFrame(stream: stream, replyTo: replyTo)))
        var generation = Generation(stream: stream, replyTo: replyTo)
        let deltas = provider.stream(request)
        generation.work = context.startWork(AIChatRoom.self) { work in
            await Self.relay(deltas, stream: stream, to: work)
        }
        current = generation
    }

    /// Reads the provider's deltas and reports each as a turn of the room, then the end. Stops at
    /// once when the work is cancelled (the room is leaving memory, or the answer was cancelled).
    private static func relay(
        _ deltas: AsyncThrowingStream<String, any Error>, stream: String, to work: RoomWork<AIChatRoom>
    ) async {
        var outcome: ModelError?
        do {
            for try await delta in deltas {
                guard !work.isCancelled else { return }
                let reported = work.report { room, context in
                    try room.append(delta, to: stream, context: context)
                }
                guard reported else { return }
            }
            guard !work.isCancelled else { return }
        } catch let error as ModelError {
            outcome = error
        } catch {
            outcome = ModelError(.providerError, "\(error)")
        }
        let failure = outcome
        work.report { room, context in
            try room.finish(stream, status: failure == nil ? "complete" : "error", error: failure, context: context)
        }
    }

    /// One delta: appended, broadcast, and checkpointed when one is due.
    func append(_ delta: String, to stream: String, context: isolated RoomContext) throws {
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
    /// An answer interrupted before it produced anything is not stored: its prompt goes back to
    /// the head of the queue (and clients hear `ai.error` `interrupted`, then `ai.queued`).
    func finish(_ stream: String, status: String, error: ModelError?, context: isolated RoomContext) throws {
        guard let generation = current, generation.stream == stream else { return }
        try context.storage.execute("DELETE FROM ai_streams WHERE stream = ?", arguments: [stream])
        current = nil
        if let error {
            context.broadcast(try .json(AIErrorFrame(stream: stream, code: error.code.rawValue, message: error.message)))
            context.logger.warning(
                "an answer failed",
                metadata: ["stream": "\(stream)", "code": "\(error.code.rawValue)", "error": "\(error.message)"])
        }
        if status == "interrupted", generation.text.isEmpty {
            try context.storage.execute(
                "INSERT OR IGNORE INTO ai_queue (prompt_seq) VALUES (?)", arguments: [generation.replyTo])
            queue.insert(generation.replyTo, at: 0)
            context.broadcast(try .json(AIQueuedFrame(replyTo: generation.replyTo, position: 1)))
            try keepPendingSchedule(context: context)
            return
        }
        let stored = try storeAnswer(
            stream: stream, replyTo: generation.replyTo, text: generation.text, status: status, context: context)
        // `interrupted` is how history records it; the stream itself ended in an error.
        context.broadcast(
            try .json(AIEndFrame(stream: stream, seq: stored.seq, status: status == "interrupted" ? "error" : status)))
        context.broadcast(MessageFrame(stored).frame)
        if status != "interrupted" { try startNextAnswer(context: context) }
        try keepPendingSchedule(context: context)
    }

    /// Stores an answer in history as the assistant's message.
    @discardableResult
    func storeAnswer(
        stream: String, replyTo: Int64, text: String, status: String, context: isolated RoomContext
    ) throws -> ChatMessage {
        let (message, duplicate) = try log.store(
            user: options.assistantName, id: "ai-\(stream)", text: text,
            fields: [
                ChatMessage.Field(name: "stream", value: .text(stream)),
                ChatMessage.Field(name: "replyTo", value: .integer(replyTo)),
                ChatMessage.Field(name: "status", value: .text(status)),
            ],
            context: context)
        if !duplicate { try chat.didStore(message, context: context) }
        return message
    }

    /// The conversation sent to the model for prompt `replyTo`: the system prompt, then the most
    /// recent messages up to the prompt, within the kind's budget of messages and bytes.
    func modelRequest(replyTo: Int64, context: isolated RoomContext) throws -> ModelRequest {
        var history: [ModelMessage] = []
        var bytes = 0
        for message in try log.recent(upTo: replyTo, limit: options.contextMessages, context: context) {
            bytes += message.text.utf8.count
            if bytes > options.contextBytes, !history.isEmpty { break }
            history.append(
                message[field: "stream"] != nil
                    ? ModelMessage(role: .assistant, content: message.text)
                    : ModelMessage(role: .user, content: "\(message.user): \(message.text)"))
        }
        return ModelRequest(messages: [ModelMessage(role: .system, content: options.systemPrompt)] + history.reversed())
    }
}
