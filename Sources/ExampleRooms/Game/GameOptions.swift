/// The options of the `game` class, set beside `"class": "game"` in a kind's configuration.
public struct GameOptions: Codable, Sendable, Equatable {
    /// How long a player may take over a move before forfeiting, in seconds (default 60).
    public var turnTimeoutSeconds: Double

    public init(turnTimeoutSeconds: Double = 60) {
        self.turnTimeoutSeconds = turnTimeoutSeconds
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        turnTimeoutSeconds = try container.decodeIfPresent(Double.self, forKey: .turnTimeoutSeconds) ?? 60
        guard turnTimeoutSeconds > 0, turnTimeoutSeconds <= 86_400 else {
            throw DecodingError.dataCorruptedError(
                forKey: .turnTimeoutSeconds, in: container, debugDescription: "must be more than 0 and at most 86400")
        }
    }
}
