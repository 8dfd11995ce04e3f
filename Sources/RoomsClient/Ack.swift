/// The server's answer to a send: the message is stored (or scheduled).
public struct Ack: Sendable, Hashable {
    /// The send's id.
    public var id: String
    /// The message's sequence number; nil for a scheduled message not yet delivered.
    public var seq: Int?
    /// The server already had a message with this id: nothing new was stored, `seq` is the original's.
    public var duplicate: Bool
    /// The message is scheduled for ``deliverAt`` (a send with `deliverAt`).
    public var scheduled: Bool
    /// When a scheduled message is delivered, in milliseconds since 1970.
    public var deliverAt: Int?

    /// An ack made of its parts.
    public init(id: String, seq: Int?, duplicate: Bool = false, scheduled: Bool = false, deliverAt: Int? = nil) {
        self.id = id
        self.seq = seq
        self.duplicate = duplicate
        self.scheduled = scheduled
        self.deliverAt = deliverAt
    }

    init?(_ frame: JSONValue) {
        guard let id = frame["id"]?.stringValue else { return nil }
        self.init(
            id: id, seq: frame["seq"]?.intValue, duplicate: frame["duplicate"]?.boolValue ?? false,
            scheduled: frame["scheduled"]?.boolValue ?? false, deliverAt: frame["deliverAt"]?.intValue)
    }
}
