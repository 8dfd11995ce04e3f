public import Foundation

/// When a schedule fires.
public enum ScheduleTime: Sendable, Equatable {
    /// Once, at a time in milliseconds since 1970 (at once if that time has passed).
    case at(Int64)
    /// Once, after a delay from now.
    case after(Duration)
    /// Repeatedly, every interval, the first time one interval from now. Runs never overlap, and
    /// intervals missed while the node was down or the room was busy are skipped, not replayed.
    case every(Duration)

    /// Once, at `date`.
    public static func at(_ date: Date) -> ScheduleTime {
        .at(Int64((date.timeIntervalSince1970 * 1000).rounded()))
    }
}

extension Duration {
    /// The duration in whole milliseconds (rounded down): what schedules, timestamps and the
    /// protocol count in.
    public var milliseconds: Int64 {
        components.seconds * 1000 + components.attoseconds / 1_000_000_000_000_000
    }
}
