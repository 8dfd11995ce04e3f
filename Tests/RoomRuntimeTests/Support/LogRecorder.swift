import Logging
import Synchronization

/// A log handler that keeps every message, for tests of what the runtime logs.
final class LogRecorder: Sendable {
    struct Entry: Sendable {
        let level: Logger.Level
        let message: String
        let metadata: [String: String]
    }

    private let entries = Mutex<[Entry]>([])

    init() {}

    /// A logger that records here (at `trace` and above).
    var logger: Logger {
        var logger = Logger(label: "rooms.test") { _ in Handler(recorder: self) }
        logger.logLevel = .trace
        return logger
    }

    /// The recorded entries, in order.
    var all: [Entry] { entries.withLock { $0 } }

    /// The entries whose message contains `text`.
    func entries(containing text: String) -> [Entry] {
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
