public import Foundation

/// A room's named schedule, as ``RoomContext/schedules()`` lists it.
public struct Schedule: Sendable, Equatable {
    /// The schedule's name, unique in the room.
    public let name: String
    /// When it fires next, in milliseconds since 1970.
    public let dueAt: Int64
    /// The interval of a repeating schedule; nil for a one-shot.
    public let interval: Duration?
    /// The payload, as JSON, if any.
    public let payload: Data?
    /// Failed attempts since the last success (0 when none failed).
    public let failures: Int
    /// How failures are retried.
    public let retry: RetryPolicy

    /// The payload decoded as `T`; nil when there is none.
    public func payload<T: Decodable>(as type: T.Type) throws -> T? {
        guard let payload else { return nil }
        return try JSONDecoder().decode(T.self, from: payload)
    }
}
