/// How hard SQLite works to make a commit durable (`PRAGMA synchronous`).
public enum SynchronousMode: String, Sendable, Codable, CaseIterable {
    /// `NORMAL`: a commit survives a crash of the process; the last commits before a power loss or
    /// an OS crash may be lost (WAL mode syncs at checkpoints). The default.
    case normal
    /// `FULL`: every commit is synced to disk before it is acknowledged, so it survives a power loss.
    case full

    var pragma: String {
        switch self {
        case .normal: "NORMAL"
        case .full: "FULL"
        }
    }
}
