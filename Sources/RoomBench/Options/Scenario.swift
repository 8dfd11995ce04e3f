/// A load scenario of `rooms bench`.
public enum Scenario: String, CaseIterable, Sendable, Encodable {
    /// One room, many listeners, one sender.
    case fanout
    /// Many rooms of a few clients, every client sending.
    case rooms
    /// One room (or `--rooms`), 32 HTTP writers, one WebSocket listener.
    case ingest
    /// Direct rooms (`--rooms`, default 32), 32 HTTP writers: the inbox outbox on every message.
    case direct
    /// Many rooms created, left to hibernate, then each woken by one message.
    case activation
    /// Many idle connections on hibernated rooms: the server's memory per connection.
    case idle
    /// AI rooms streaming answers from the local provider: token deliveries and latency.
    case ai
    /// One document (or `--rooms`) edited by `--clients` editors (default 20), each an OT client
    /// with one edit in flight: operations stored per second, and each edit's latency to the
    /// other editors.
    case doc
    /// One room of `--clients` readers (default 1,000) at a steady `--rate` (default 100 msg/s),
    /// measured calm, then beside a listener that stops reading and a client flooding without
    /// reading: the readers' latency with and without, and what the server did to the two.
    case slow
    /// A mixed workload (chat, fan-out, hibernation churn with schedules, AI streams) for
    /// `--duration` seconds, the server's memory, descriptors and open databases sampled every
    /// `--sample-every` seconds.
    case soak
}
