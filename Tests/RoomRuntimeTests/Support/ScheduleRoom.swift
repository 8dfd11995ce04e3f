import Foundation
import RoomTesting
import GRDB
import NIOCore
@_spi(Node) import RoomRuntime

/// A room class for schedule tests.
///
/// Commands arrive as text frames, or as the body of a `POST` request: a JSON object with a
/// `type`:
///
/// - `schedule`: `name`, and one of `afterMs`, `everyMs` or `atMs`; the payload is a ``Job`` made of
///   `text`, `mode`, `sleepMs` and `cancels`, or, with `payloadBytes`, a JSON string of exactly that many
///   bytes. `firstRetryMs` and `maxRetries` make the retry policy. Answers
///   `{"type":"scheduled","name","dueAt"}`.
/// - `cancel`: `name`; answers `{"type":"cancelled","name","result"}`.
/// - `list`: answers `{"type":"schedules","names","texts","dueAts"}`.
/// - `many`: runs the `commands` in one turn; answers as the last does.
/// - `arm`: a `schedule` command, stored and run only in `onHibernate`, so that the schedule
///   exists only once the room is leaving memory; answers `{"type":"armed"}`.
///
/// `onSchedule` records every attempt, failed ones included, in ``log``, then follows the job's
/// `mode`: `fail` always throws, `fail-twice` throws on attempts 1 and 2, `call` calls the room
/// `calls/ID-callee` (a ``CallRoom``: the fixture must serve that kind) with `sleep/MS`, MS being
/// the job's `sleepMs`. Other jobs sleep `sleepMs` first. A job with `cancels` cancels the
/// schedule of that name. A firing that succeeds stores a row under the next sequence number and broadcasts
/// `{"type":"fired","name","text","attempt","seq","rehydrated","eventsBefore"}`, where
/// `eventsBefore` counts the client events and requests this instance handled before it.
final class ScheduleRoom: Room {
    static let className = "schedules"

    /// What a schedule carries.
    struct Job: Codable, Sendable {
        var text: String
        var mode: String?
        var sleepMs: Int?
        var cancels: String?
    }

    /// One call of `onSchedule`, as the room saw it (wall-clock times in ms since 1970).
    struct Attempt: Sendable {
        let name: String
        let text: String
        let attempt: Int
        let dueAt: Int64
        let firedAt: Int64
        let startedAt: Int64
        let endedAt: Int64
    }

    /// Every attempt, by room id.
    static let log = EventLog<Attempt>()

    struct Command: Codable {
        var type: String
        var name: String?
        var afterMs: Int64?
        var everyMs: Int64?
        var atMs: Int64?
        var text: String?
        var mode: String?
        var sleepMs: Int?
        var cancels: String?
        var payloadBytes: Int?
        var firstRetryMs: Int64?
        var maxRetries: Int?
        var commands: [Command]?
    }

    struct Scheduled: Encodable {
        var type = "scheduled"
        let name: String
        let dueAt: Int64?
    }

    struct Cancelled: Encodable {
        var type = "cancelled"
        let name: String
        let result: Bool
    }

    struct Listing: Encodable {
        var type = "schedules"
        let names: [String]
        let texts: [String?]
        let dueAts: [Int64]
    }

    struct Fired: Encodable {
        var type = "fired"
        let name: String
        let text: String
        let attempt: Int
        let seq: Int64
        let rehydrated: Bool
        let eventsBefore: Int
    }

    static var migrations: RoomMigrations {
        var migrations = RoomMigrations()
        migrations.add("v1") { db in
            try db.execute(
                sql: "CREATE TABLE fires (seq INTEGER PRIMARY KEY, name TEXT NOT NULL, text TEXT NOT NULL, attempt INTEGER NOT NULL)"
            )
        }
        return migrations
    }

    private var activation: Activation?
    private var handledEvents = 0

    init(options: NoOptions) {}

    func onStart(_ activation: Activation, context: isolated RoomContext) async throws {
        self.activation = activation
    }

    func onHibernate(context: isolated RoomContext) async throws {
        guard var armed = try context.storage.kv.get("armed", as: Command.self) else { return }
        armed.type = "schedule"
        _ = try perform(armed, context: context)
        try context.storage.kv.remove("armed")
    }

    func onMessage(_ message: ClientMessage, from connection: RoomConnection, context: isolated RoomContext)
        async throws
    {
        handledEvents += 1
        let reply = try perform(try message.decodeJSON(Command.self), context: context)
        context.send(reply, to: connection)
    }

    func onRequest(_ request: RoomRequest, context: isolated RoomContext) async throws -> RoomResponse {
        handledEvents += 1
        let reply = try perform(try request.decodeJSON(Command.self), context: context)
        return RoomResponse(status: 200, body: reply.payload)
    }

    func onSchedule(_ fire: ScheduleFire, context: isolated RoomContext) async throws {
        let started = context.now()
        let job = (try? fire.payload(as: Job.self)) ?? Job(text: "")
        defer {
            Self.log.append(
                Attempt(
                    name: fire.name, text: job.text, attempt: fire.attempt, dueAt: fire.dueAt, firedAt: fire.firedAt,
                    startedAt: started, endedAt: context.now()),
                for: context.id)
        }
        if job.mode == "call" {
            _ = try await context.call(
                RoomRequest(method: "GET", path: ["sleep", "\(job.sleepMs ?? 0)"]),
                to: RoomAddress(kind: "calls", id: "\(context.id)-callee"))
        } else if let sleep = job.sleepMs {
            try await Task.sleep(for: .milliseconds(sleep))
        }
        if let other = job.cancels { try context.cancelSchedule(other) }
        switch job.mode {
        case "fail":
            throw RoomError.badRequest("job_failed", "this job always fails")
        case "fail-twice" where fire.attempt < 3:
            throw RoomError.badRequest("job_failed", "this job fails twice")
        default:
            break
        }
        let seq = try context.nextSequence()
        try context.storage.execute(
            "INSERT INTO fires (seq, name, text, attempt) VALUES (?, ?, ?, ?)",
            arguments: [seq, fire.name, job.text, fire.attempt])
        context.broadcast(
            try .json(
                Fired(
                    name: fire.name, text: job.text, attempt: fire.attempt, seq: seq,
                    rehydrated: activation == .rehydrated, eventsBefore: handledEvents)))
    }

    private func perform(_ command: Command, context: isolated RoomContext) throws -> OutboundFrame {
        switch command.type {
        case "schedule":
            guard let name = command.name else { throw RoomError.badRequest(.missingField, "name") }
            let time: ScheduleTime
            if let every = command.everyMs {
                time = .every(.milliseconds(every))
            } else if let at = command.atMs {
                time = .at(at)
            } else {
                time = .after(.milliseconds(command.afterMs ?? 0))
            }
            let retry = RetryPolicy(
                firstRetryAfter: .milliseconds(command.firstRetryMs ?? 2_000), maxRetries: command.maxRetries ?? 6)
            if let bytes = command.payloadBytes {
                // A JSON string: its quotes and `bytes - 2` letters.
                try context.schedule(name, time, payload: String(repeating: "a", count: max(0, bytes - 2)), retry: retry)
            } else {
                try context.schedule(
                    name, time, payload: Job(text: command.text ?? "", mode: command.mode, sleepMs: command.sleepMs, cancels: command.cancels),
                    retry: retry)
            }
            let dueAt = try context.schedules().first { $0.name == name }?.dueAt
            return try .json(Scheduled(name: name, dueAt: dueAt))
        case "cancel":
            guard let name = command.name else { throw RoomError.badRequest(.missingField, "name") }
            return try .json(Cancelled(name: name, result: try context.cancelSchedule(name)))
        case "many":
            var reply = OutboundFrame.text("{}")
            for command in command.commands ?? [] { reply = try perform(command, context: context) }
            return reply
        case "arm":
            try context.storage.kv.set("armed", command)
            return .text(#"{"type":"armed"}"#)
        case "list":
            let schedules = try context.schedules()
            return try .json(
                Listing(
                    names: schedules.map(\.name), texts: schedules.map { try? $0.payload(as: Job.self)?.text },
                    dueAts: schedules.map(\.dueAt)))
        default:
            throw RoomError.badRequest(.unknownType, "unknown command '\(command.type)'")
        }
    }
}
