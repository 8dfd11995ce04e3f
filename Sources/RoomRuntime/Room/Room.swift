import Logging

/// A room class: the code behind one kind of room.
///
/// Conform a class to `Room` to define what a room does. The runtime creates one instance per live
/// room, on the room's shard, and calls its hooks one event at a time (a *turn*). Every hook runs
/// isolated to the room's ``RoomContext``, on the shard's thread: the instance's properties need no
/// locks, and storage calls are plain synchronous calls.
///
/// Writes made during a turn commit together, and what the turn sends (frames, HTTP responses) is
/// released only after that commit: a client never sees something that was not stored. Throw a
/// ``RoomError`` from a hook to reject an input: the turn's writes roll back, its output is dropped
/// and the sender gets an error frame. Validate before you mutate in-memory state, since memory does
/// not roll back.
///
/// A minimal room that counts the messages it receives:
///
/// ```swift
/// final class CounterRoom: Room {
///     static let className = "counter"
///     private var count = 0
///
///     init(options: NoOptions) {}
///
///     func onStart(_ activation: Activation, context: isolated RoomContext) async throws {
///         count = try context.storage.kv.get("count", as: Int.self) ?? 0
///     }
///
///     func onMessage(_ message: ClientMessage, from connection: RoomConnection,
///                    context: isolated RoomContext) async throws {
///         count += 1
///         try context.storage.kv.set("count", count)
///         context.broadcast(.text("{\"type\":\"count\",\"value\":\(count)}"))
///     }
/// }
/// ```
///
/// Register the class in a ``RoomClassRegistry`` and name it in a kind's configuration
/// (`"kinds": {"counter": {"class": "counter"}}`).
public protocol Room: AnyObject, SendableMetatype {
    /// The options a kind's configuration passes to this class (the keys beside `"class"`).
    ///
    /// Decoded once at start-up; a key the type does not know is a configuration error.
    associatedtype Options: Codable & Sendable = NoOptions

    /// The name that configuration uses for this class: `"class": "chat"`.
    static var className: String { get }

    /// The class's schema, as named steps applied in order at activation (default: none).
    static var migrations: RoomMigrations { get }

    /// Makes a room instance. Keep it cheap: load state in ``onStart(_:context:)``.
    init(options: Options)

    /// The room became active: it was just created, or rehydrated from its file after hibernation
    /// or a restart. Load the state you keep in memory here.
    func onStart(_ activation: Activation, context: isolated RoomContext) async throws

    /// A client connected. The runtime has already sent it the `welcome` frame.
    /// Throw to refuse the connection: the client gets an error frame and a close with code 1008.
    func onConnect(_ connection: RoomConnection, context: isolated RoomContext) async throws

    /// Fields the room adds to the `welcome` frame of `connection`, beside the runtime's own
    /// (`kind`, `room`, `user`, `lastSeq`, `connection`, `epoch`, `recovered`, which win over a
    /// field of the same name). Called in the connect turn, with `connection` already in
    /// ``RoomContext/connections``, before ``onConnect(_:context:)``. The default adds none.
    func welcome(for connection: RoomConnection, context: isolated RoomContext) async throws -> [String: JSONValue]

    /// A client resumes (`?after=SEQ`, within the room's epoch): the frames that bring a client
    /// that saw everything up to `seq` up to date, oldest first. The runtime sends them right
    /// after the `welcome` (which then says `recovered: true`) and before anything live, in the
    /// connect turn, so that nothing is missing or sent twice across the boundary. Return nil when
    /// the room cannot (more is missing than it replays, or it keeps no log): the client is told
    /// `recovered: false` and reloads. The default returns nil.
    func replay(after seq: Int64, context: isolated RoomContext) async throws -> [OutboundFrame]?

    /// A client sent a message. Throw a ``RoomError`` to answer it with an error frame.
    func onMessage(_ message: ClientMessage, from connection: RoomConnection, context: isolated RoomContext)
        async throws

    /// A client's connection closed. It is no longer in ``RoomContext/connections``.
    func onClose(_ connection: RoomConnection, context: isolated RoomContext) async throws

    /// An HTTP request to `/rooms/{kind}/{id}/...` (other than the WebSocket route).
    /// The default answers 404 `not_found`.
    func onRequest(_ request: RoomRequest, context: isolated RoomContext) async throws -> RoomResponse

    /// The room is about to leave memory (idle, evicted, or the node is stopping). Writes made here
    /// commit before the database closes. Connections stay open.
    func onHibernate(context: isolated RoomContext) async throws

    /// A timer set with ``RoomContext/setTimer(_:after:)`` fired. The default does nothing.
    func onTimer(_ name: String, context: isolated RoomContext) async throws

    /// The members of a `members` or `direct` room changed (its creation, a member added, removed
    /// or given another role, through the runtime's member routes). Runs in the turn that stores
    /// the change: throw, and the change is rolled back and refused. The default does nothing.
    func onMembersChanged(_ changes: [MemberChange], context: isolated RoomContext) async throws

    /// One of the room's schedules fell due (see ``RoomContext/schedule(_:_:retry:)``). Throw to
    /// fail the attempt: it is retried with backoff, and ``ScheduleFire/attempt`` counts the tries.
    func onSchedule(_ fire: ScheduleFire, context: isolated RoomContext) async throws

    /// How often the runtime asks the room for a snapshot (``onSnapshot(context:)``); nil (the
    /// default) for never. A room with an interval is also asked before every hibernation,
    /// graceful shutdown included.
    static var snapshotInterval: Duration? { get }

    /// Whether rooms of this class are ephemeral (default false): their storage is an in-memory
    /// database that lives only while the room is in memory, they have no file and no directory
    /// row (so they are not listed), and they cannot set durable schedules. For rooms that only
    /// relay what passes through them (cursors, typing indicators, game ticks).
    static var isEphemeral: Bool { get }

    /// The frame types a `reader` of a `members` or `direct` room may send (default none): frames
    /// that change nothing others read, such as marking messages read. Every other frame of a
    /// reader is refused with `read_only` before it reaches the room.
    static var readerFrameTypes: Set<String> { get }

    /// Write the in-memory state you keep to storage, so that ``onStart(_:context:)`` can start
    /// from it. Runs as a turn: its writes commit like any other.
    func onSnapshot(context: isolated RoomContext) async throws
}

/// Why a room became active.
public enum Activation: Sendable, Equatable {
    /// Its file did not exist: this is the room's first activation ever.
    case created
    /// Its file existed: it is waking from hibernation or from a restart.
    case rehydrated
}

/// The options of a room class that takes none.
public struct NoOptions: Codable, Sendable, Equatable {
    public init() {}
}

extension Room {
    public static var migrations: RoomMigrations { RoomMigrations() }

    public func onStart(_ activation: Activation, context: isolated RoomContext) async throws {}

    public func onConnect(_ connection: RoomConnection, context: isolated RoomContext) async throws {}

    public func replay(after seq: Int64, context: isolated RoomContext) async throws -> [OutboundFrame]? { nil }

    public func welcome(for connection: RoomConnection, context: isolated RoomContext) async throws
        -> [String: JSONValue]
    { [:] }

    public func onTimer(_ name: String, context: isolated RoomContext) async throws {}

    public func onMembersChanged(_ changes: [MemberChange], context: isolated RoomContext) async throws {}

    public func onMessage(_ message: ClientMessage, from connection: RoomConnection, context: isolated RoomContext)
        async throws
    {
        throw RoomError.badRequest(.unknownType, "this room does not accept messages")
    }

    public func onClose(_ connection: RoomConnection, context: isolated RoomContext) async throws {}

    public func onRequest(_ request: RoomRequest, context: isolated RoomContext) async throws -> RoomResponse {
        throw RoomError.notFound(.notFound, "no route \(request.method) /\(request.path.joined(separator: "/"))")
    }

    public func onHibernate(context: isolated RoomContext) async throws {}

    public func onSchedule(_ fire: ScheduleFire, context: isolated RoomContext) async throws {
        context.logger.warning("schedule fired but the room class has no onSchedule", metadata: ["schedule": "\(fire.name)"])
    }

    public static var snapshotInterval: Duration? { nil }

    public static var isEphemeral: Bool { false }

    public static var readerFrameTypes: Set<String> { [] }

    public func onSnapshot(context: isolated RoomContext) async throws {}
}
