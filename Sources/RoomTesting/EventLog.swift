import Synchronization

/// A process-wide record of what test rooms did, by room id.
///
/// A turn that throws loses its writes and its output, so a room cannot record a failed attempt
/// itself; test rooms append here instead. Tests run in parallel in one process: give every room
/// an id no other test uses.
///
/// ```swift
/// final class FlakyRoom: Room {
///     static let attempts = EventLog<Int>()
///     func onSchedule(_ fire: ScheduleFire, context: isolated RoomContext) async throws {
///         Self.attempts.append(fire.attempt, for: context.id)
///         ...
/// ```
public final class EventLog<Entry: Sendable>: Sendable {
    private let entries = Mutex<[String: [Entry]]>([:])

    public init() {}

    /// Records `entry` for room `room`.
    public func append(_ entry: Entry, for room: String) {
        entries.withLock { $0[room, default: []].append(entry) }
    }

    /// What was recorded for room `room`, in order.
    public func entries(for room: String) -> [Entry] {
        entries.withLock { $0[room] ?? [] }
    }
}
