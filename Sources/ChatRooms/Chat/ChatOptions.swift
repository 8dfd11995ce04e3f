import RoomRuntime

/// The options of the `chat` class, set beside `"class": "chat"` in a kind's configuration.
public struct ChatOptions: Codable, Sendable, Equatable {
    /// The longest message text, in UTF-8 bytes (default 4096).
    public var maxTextBytes: Int
    /// The most messages one history request returns (default 500).
    public var maxHistoryLimit: Int
    /// How far ahead a message may be scheduled with `deliverAt`, in seconds (default 7 days).
    public var maxScheduleAheadSeconds: Int
    /// The most scheduled messages a room holds undelivered (default 1000).
    public var maxScheduledMessages: Int
    /// The most messages a resuming client (`?after=SEQ`) is sent; a client further behind is
    /// told `recovered: false` and reloads from history (default 1000).
    public var maxReplayMessages: Int
    /// The shortest time between two `receipt` frames of one user, in milliseconds; a read within
    /// it is sent at its end, the latest only (default 1000).
    public var receiptIntervalMilliseconds: Int
    /// The most users a `welcome` lists in `present`, and the most online users for which the
    /// room sends a `presence` frame per join and leave; above it the room sends a `count` frame
    /// at most once a second instead (default 100).
    public var presenceLimit: Int
    /// How long a room gathers changes before it tells its members' inboxes, in milliseconds: a
    /// burst of messages is one update per inbox (default 500).
    public var inboxDelayMilliseconds: Int

    public init(
        maxTextBytes: Int = 4096, maxHistoryLimit: Int = 500, maxScheduleAheadSeconds: Int = 604_800,
        maxScheduledMessages: Int = 1000, maxReplayMessages: Int = 1000, receiptIntervalMilliseconds: Int = 1000,
        presenceLimit: Int = 100, inboxDelayMilliseconds: Int = 500
    ) {
        self.maxTextBytes = maxTextBytes
        self.maxHistoryLimit = maxHistoryLimit
        self.maxScheduleAheadSeconds = maxScheduleAheadSeconds
        self.maxScheduledMessages = maxScheduledMessages
        self.maxReplayMessages = maxReplayMessages
        self.receiptIntervalMilliseconds = receiptIntervalMilliseconds
        self.presenceLimit = presenceLimit
        self.inboxDelayMilliseconds = inboxDelayMilliseconds
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let defaults = ChatOptions()
        maxTextBytes = try container.decodeOption(.maxTextBytes, default: defaults.maxTextBytes, in: 1...(1 << 20))
        maxHistoryLimit = try container.decodeOption(.maxHistoryLimit, default: defaults.maxHistoryLimit, in: 1...10_000)
        maxScheduleAheadSeconds = try container.decodeOption(
            .maxScheduleAheadSeconds, default: defaults.maxScheduleAheadSeconds, in: 1...31_536_000)
        maxScheduledMessages = try container.decodeOption(.maxScheduledMessages, default: defaults.maxScheduledMessages, in: 0...1_000_000)
        maxReplayMessages = try container.decodeOption(.maxReplayMessages, default: defaults.maxReplayMessages, in: 0...100_000)
        receiptIntervalMilliseconds = try container.decodeOption(
            .receiptIntervalMilliseconds, default: defaults.receiptIntervalMilliseconds, in: 0...3_600_000)
        presenceLimit = try container.decodeOption(.presenceLimit, default: defaults.presenceLimit, in: 0...100_000)
        inboxDelayMilliseconds = try container.decodeOption(
            .inboxDelayMilliseconds, default: defaults.inboxDelayMilliseconds, in: 0...60_000)
    }
}
