/// How a ``RoomClient`` connects, reconnects and sends. Every duration has the JavaScript client's default.
public struct RoomClientOptions: Sendable {
    /// A token (jwt mode): sent as `?token=` on the socket and as `Authorization: Bearer` over HTTP.
    public var token: String?
    /// Called for a new token when the server closes with 4401 (the token expired or was refused);
    /// the client then reconnects at once with it. Without a provider, 4401 is terminal. A
    /// provider that throws makes it terminal too (reason `token_refresh_failed`).
    public var tokenProvider: (@Sendable () async throws -> String)?
    /// The last `seq` the app already has: the first connection resumes after it. Without it, the
    /// first connection delivers what is stored after it joined.
    public var after: Int?
    /// The `epoch` ``after`` was seen under: a different one on the server means the room was
    /// recreated (a ``RoomEvent/reset(_:)``).
    public var epoch: String?
    /// The first reconnect delay's cap (full jitter: a random delay from 0 to
    /// `min(maxBackoff, minBackoff × 2^attempt)`).
    public var minBackoff: Duration = .milliseconds(500)
    /// The largest reconnect delay cap.
    public var maxBackoff: Duration = .seconds(20)
    /// A connection open this long starts the next backoff from the beginning.
    public var resetAfter: Duration = .seconds(5)
    /// The most sends waiting for their ack; beyond, `send` throws `outbox_full`.
    public var outboxLimit: Int = 1000
    /// How often to send a `ping` frame while connected.
    public var pingInterval: Duration = .seconds(25)
    /// How long a `ping` may go unanswered before the link counts as dead and the client reconnects.
    public var pongTimeout: Duration = .seconds(10)
    /// The server's `server.maxFrameBytes`: a larger `send` frame is refused at once with
    /// `payload_too_large`.
    public var maxFrameBytes: Int = 65536
    /// How long a connection may take from the TCP connect to the `welcome` frame. Past it the
    /// attempt is abandoned and the client reconnects; this also guards against a WebSocket
    /// connect that hangs when the link drops mid-upgrade (see ``RoomClient``).
    public var connectTimeout: Duration = .seconds(10)
    /// The limit on each HTTP request (history, the inbox, the probe after a refused upgrade).
    public var requestTimeout: Duration = .seconds(10)
    /// How ``RoomClient/events`` buffers events the app has not read yet. Unbounded by default:
    /// an app that never reads `events` should pass `.bufferingNewest(n)`.
    public var eventBuffering: AsyncStream<RoomEvent>.Continuation.BufferingPolicy = .unbounded

    /// The defaults, with `token` and `tokenProvider` if given.
    public init(token: String? = nil, tokenProvider: (@Sendable () async throws -> String)? = nil) {
        self.token = token
        self.tokenProvider = tokenProvider
    }
}
