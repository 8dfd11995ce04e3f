/// The options of the `doc` class, set beside `"class": "doc"` in a kind's configuration.
public struct DocumentOptions: Codable, Sendable, Equatable {
    /// Store a snapshot of the text every this many operations (default 100).
    public var snapshotEvery: Int
    /// Keep this many versions of operation log behind the newest snapshot (default 1000): a
    /// client that reconnects within them gets the operations it missed; an older one gets the
    /// text. Operations older than that are dropped.
    public var keepVersions: Int
    /// The largest document, in UTF-8 bytes (default 1 MiB).
    public var maxDocumentBytes: Int
    /// The largest `op` frame, in UTF-8 bytes (default 64 KiB).
    public var maxOperationBytes: Int
    /// The shortest time between two cursor frames of one user relayed to the others, in
    /// milliseconds (default 50); the latest cursor within it is relayed at its end.
    public var cursorIntervalMilliseconds: Int

    public init(
        snapshotEvery: Int = 100, keepVersions: Int = 1000, maxDocumentBytes: Int = 1 << 20,
        maxOperationBytes: Int = 1 << 16, cursorIntervalMilliseconds: Int = 50
    ) {
        self.snapshotEvery = snapshotEvery
        self.keepVersions = keepVersions
        self.maxDocumentBytes = maxDocumentBytes
        self.maxOperationBytes = maxOperationBytes
        self.cursorIntervalMilliseconds = cursorIntervalMilliseconds
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let defaults = DocumentOptions()
        func value(_ key: CodingKeys, _ fallback: Int, _ range: ClosedRange<Int>) throws -> Int {
            let value = try container.decodeIfPresent(Int.self, forKey: key) ?? fallback
            guard range.contains(value) else {
                throw DecodingError.dataCorruptedError(
                    forKey: key, in: container,
                    debugDescription: "must be from \(range.lowerBound) to \(range.upperBound)")
            }
            return value
        }
        snapshotEvery = try value(.snapshotEvery, defaults.snapshotEvery, 1...1_000_000)
        keepVersions = try value(.keepVersions, defaults.keepVersions, 0...10_000_000)
        maxDocumentBytes = try value(.maxDocumentBytes, defaults.maxDocumentBytes, 1...(64 << 20))
        maxOperationBytes = try value(.maxOperationBytes, defaults.maxOperationBytes, 64...(64 << 20))
        cursorIntervalMilliseconds = try value(.cursorIntervalMilliseconds, defaults.cursorIntervalMilliseconds, 0...60_000)
    }
}
