public import Logging
import Synchronization

/// A log handler that keeps every message, for tests of what a room, the runtime or the server
/// logs.
public final class LogRecorder: Sendable {
    /// One message.
    public struct Entry: Sendable {
        public let level: Logger.Level
        public let message: String
        public let metadata: [String: String]
    }

    private let entries = Mutex<[Entry]>([])

    public init() {}

    /// A logger that records here (at `trace` and above).
    public var logger: Logger {
        var logger = Logger(label: "rooms.test") { _ in Handler(recorder: self) }
        logger.logLevel = .trace
        return logger
    }

    /// The recorded entries, in order.
    public var all: [Entry] { entries.withLock { $0 } }

    /// The entries whose message contains `text`.
    public func entries(containing text: String) -> [Entry] {
        all.filter { $0.message.contains(text) }
    }

    fileprivate func record(_ entry: Entry) {
        entries.withLock { $0.append(entry) }
    }

    private struct Handler: LogHandler {
        let recorder: LogRecorder
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .trace

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(event: LogEvent) {
            var merged = metadata
            if let extra = event.metadata { merged.merge(extra) { $1 } }
            recorder.record(
                Entry(
                    level: event.level, message: "\(event.message)",
                    metadata: merged.mapValues { "\($0)" }))
        }
    }
}
