/// What `rooms bench slow` measured of its two misbehaving clients and of the server around them.
public struct MisbehaviourSummary: Encodable, Sendable {
    /// The readers' latency in the same room just before, without the misbehaving clients.
    public var calmLatencyMicros: LatencySummary
    /// The readers' p99 with the misbehaving clients over their p99 without.
    public var p99Ratio: Double
    /// `server.maxQueuedFrames` of the server measured, when the harness started it.
    public var maxQueuedFrames: Int?
    /// Frames the stalled listener found when it read at last.
    public var stalledFramesReceived: Int
    /// The close code it found (1013 when closed as a slow consumer; nil if it was not closed
    /// within the window).
    public var stalledCloseCode: Int?
    /// Whether the server had ended the stalled listener's connection by the end of the window.
    public var stalledEnded: Bool
    /// Messages the flooder wrote to its sockets.
    public var floodFramesSent: Int
    /// Times the server ended the flooder's connection.
    public var floodSessionsClosed: Int
    /// The server's resident memory at the end of the calm window and of the misbehaving one.
    public var serverRssCalmBytes: Int?
    public var serverRssAfterBytes: Int?
}
