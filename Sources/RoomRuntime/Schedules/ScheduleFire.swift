public import Foundation

/// One firing of a schedule, as ``Room/onSchedule(_:context:)`` receives it.
///
/// Delivery is at least once: the firing is marked done in the same commit as the handler's
/// writes, so a crash before that commit fires it again. Throw to fail the attempt; it is retried
/// per the schedule's ``RetryPolicy`` and the next call carries a higher ``attempt``.
public struct ScheduleFire: Sendable {
    /// The schedule's name.
    public let name: String
    /// The payload, as JSON, if any.
    public let payload: Data?
    /// 1 for the first attempt at this due time, 2 for the first retry, and so on.
    public let attempt: Int
    /// When the firing was due, in milliseconds since 1970.
    public let dueAt: Int64
    /// When it fired, in milliseconds since 1970.
    public let firedAt: Int64
    /// Whether the schedule repeats (`every`).
    public let isRepeating: Bool

    /// The payload decoded as `T`.
    ///
    /// - Throws: ``RoomError`` `invalid_field` when there is none or it does not decode.
    public func payload<T: Decodable>(as type: T.Type) throws(RoomError) -> T {
        guard let payload else { throw .badRequest(.invalidField, "schedule '\(name)' has no payload") }
        do {
            return try JSONDecoder().decode(T.self, from: payload)
        } catch {
            throw .badRequest(.invalidField, "schedule '\(name)': payload does not decode: \(error)")
        }
    }
}
