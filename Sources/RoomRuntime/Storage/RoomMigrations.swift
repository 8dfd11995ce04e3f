public import GRDB

/// A room class's schema, as named steps applied once each, in order, when a room activates.
///
/// Add a step for every change; never edit or reorder a step that has shipped, since rooms already
/// created have recorded it as done.
///
/// ```swift
/// static var migrations: RoomMigrations {
///     var migrations = RoomMigrations()
///     migrations.add("v1") { db in
///         try db.execute(sql: "CREATE TABLE moves (turn INTEGER PRIMARY KEY, player TEXT NOT NULL)")
///     }
///     migrations.add("v2-add-time") { db in
///         try db.execute(sql: "ALTER TABLE moves ADD COLUMN at INTEGER NOT NULL DEFAULT 0")
///     }
///     return migrations
/// }
/// ```
///
/// Steps run inside a transaction of their own with GRDB's `Database`; a step that throws leaves
/// the room unable to activate (clients get `room_unavailable`) and its file unchanged.
///
/// A room created from nothing does not run the steps itself: it starts from a copy of the
/// database the steps built once in the process (only files created before a step was added run
/// it). So a step must build the same thing every time: no times, random values or outside state
/// in the rows it writes (fill those in the room, in `onStart`).
public struct RoomMigrations: Sendable {
    /// One named step.
    public struct Step: Sendable {
        /// The step's name, unique within the class.
        public let name: String
        let body: @Sendable (Database) throws -> Void
    }

    /// The steps, in order.
    public private(set) var steps: [Step] = []

    /// The database these steps build from nothing, once built.
    private(set) var template = RoomTemplate()

    public init() {}

    /// Appends a step named `name`.
    public mutating func add(_ name: String, _ body: @escaping @Sendable (Database) throws -> Void) {
        precondition(!steps.contains { $0.name == name }, "migration '\(name)' is registered twice")
        steps.append(Step(name: name, body: body))
        template = RoomTemplate()
    }
}
