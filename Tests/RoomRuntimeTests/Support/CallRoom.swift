import Foundation
import RoomTesting
import NIOCore
@_spi(Node) import RoomRuntime

/// A room class for calls between rooms (all of one kind).
///
/// Requests:
///
/// - `touch` (POST): stores a write, which creates the room, and answers like `echo`.
/// - `echo`: answers an ``Echo`` naming this room, the calling room and this instance's activations.
/// - `sleep/MS`: sleeps MS milliseconds inside the hook, then answers `{"slept": MS}`.
/// - `wait/KEY`: waits inside the hook until the test calls ``open(_:)`` with KEY, then answers
///   `{"opened": KEY}`.
/// - `call/ID/REST...`: calls room ID of the same kind with the path REST (`timeoutMs` in the
///   query bounds the call, default 5 s) and answers a ``Relay`` holding the reply.
///
/// Text frames `echo:TEXT` are answered `{"type":"echo","text":TEXT}` to the sender, and
/// `{"type":"said","text":TEXT}` to everyone; every room records the keys it waits on in ``waiting``.
final class CallRoom: Room {
    static let className = "calls"

    static let starts = EventLog<Activation>()

    private static let gates = EventLog<Bool>()

    /// The gates rooms started waiting on, by key.
    static let waiting = EventLog<Bool>()

    /// Lets the rooms waiting on `key` answer.
    static func open(_ key: String) {
        gates.append(true, for: key)
    }

    struct Echo: Codable {
        let me: String
        let caller: String?
        let activations: [String]
    }

    struct Relay: Codable {
        let me: String
        let status: Int
        let reply: String
    }

    init(options: NoOptions) {}

    func onStart(_ activation: Activation, context: isolated RoomContext) async throws {
        Self.starts.append(activation, for: context.id)
    }

    func onMessage(_ message: ClientMessage, from connection: RoomConnection, context: isolated RoomContext)
        async throws
    {
        guard case .text(let text) = message, text.hasPrefix("echo:") else {
            throw RoomError.badRequest(.unknownType, "echo:TEXT only")
        }
        let said = String(text.dropFirst(5))
        context.send(try .json(["type": "echo", "text": said]), to: connection)
        context.broadcast(try .json(["type": "said", "text": said]))
    }

    func onRequest(_ request: RoomRequest, context: isolated RoomContext) async throws -> RoomResponse {
        switch request.path.first {
        case "touch", "echo":
            if request.path.first == "touch" { try context.storage.kv.set("touched", context.now()) }
            let activations = Self.starts.entries(for: context.id).map { $0 == .created ? "created" : "rehydrated" }
            return try .json(Echo(me: context.id, caller: request.caller?.id, activations: activations))
        case "sleep":
            let milliseconds = request.path.count > 1 ? Int(request.path[1]) ?? 0 : 0
            try await Task.sleep(for: .milliseconds(milliseconds))
            return try .json(["slept": milliseconds])
        case "wait":
            let key = request.path.count > 1 ? request.path[1] : ""
            Self.waiting.append(true, for: key)
            while Self.gates.entries(for: key).isEmpty { try await Task.sleep(for: .milliseconds(5)) }
            return try .json(["opened": key])
        case "call":
            guard request.path.count >= 2 else { throw RoomError.badRequest(.invalidField, "call/ID/...") }
            let timeout = try request.integer("timeoutMs", in: 1...60_000) ?? 5_000
            let target = try RoomAddress(kind: context.kind, id: request.path[1])
            let reply = try await context.call(
                RoomRequest(method: "GET", path: Array(request.path.dropFirst(2))), to: target,
                timeout: .milliseconds(timeout))
            return try .json(Relay(me: context.id, status: reply.status, reply: String(buffer: reply.body)))
        default:
            throw RoomError.notFound(.notFound, "no such route")
        }
    }
}
