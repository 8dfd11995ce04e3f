/// Where a ``RoomClient`` is in its life.
public enum ConnectionState: String, Sendable, Hashable {
    /// Opening a WebSocket connection (the first one, or a reconnection).
    case connecting
    /// Connected and catching up from history after a gap; live messages wait until it is done.
    case syncing
    /// Connected and up to date.
    case open
    /// Disconnected, waiting (backoff) before reconnecting.
    case waiting
    /// Stopped for good: ``RoomClient/close()`` or a terminal close code. Sends now fail.
    case closed
}
