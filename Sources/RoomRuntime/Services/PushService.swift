public import Foundation

/// The node's offline push, as rooms use it: hands a notification to whatever delivers it (the
/// server's webhook, `"push"` in its configuration), and says how long a room waits before
/// pushing a message to a member who has not read it.
///
/// A room keeps what it owes durably and retries; the service makes one attempt per call.
public struct PushService: Sendable {
    /// One notification: its id (the same across retries, so that receivers can deduplicate) and
    /// its JSON body.
    public struct Delivery: Sendable, Equatable {
        public let id: String
        public let body: Data

        public init(id: String, body: Data) {
            self.id = id
            self.body = body
        }
    }

    /// How long a member has to read a message before it is pushed to them.
    public let delay: Duration
    private let send: @Sendable (Delivery) async throws -> Void

    /// A service that waits `delay` and delivers with `send`, which throws when the attempt
    /// failed (the room retries it later).
    public init(delay: Duration, send: @escaping @Sendable (Delivery) async throws -> Void) {
        self.delay = delay
        self.send = send
    }

    /// Makes one attempt to deliver `delivery`.
    ///
    /// - Throws: when it was not delivered (an error answer, a timeout, no connection).
    public func deliver(_ delivery: Delivery) async throws {
        try await send(delivery)
    }
}
