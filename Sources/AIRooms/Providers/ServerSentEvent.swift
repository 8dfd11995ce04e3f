/// One event of a `text/event-stream` body.
public struct ServerSentEvent: Sendable, Equatable {
    /// The `event:` field; nil when absent (the default type, "message").
    public var event: String?
    /// The `data:` lines joined with newlines.
    public var data: String
    /// The event's own `id:` field; nil when it had none.
    public var id: String?

    public init(event: String? = nil, data: String, id: String? = nil) {
        self.event = event
        self.data = data
        self.id = id
    }
}
