import Foundation

/// Wall-clock time as the protocol writes it.
@_spi(Node)
public enum WallClock {
    /// Milliseconds since 1970-01-01 UTC.
    public static func millisecondsSince1970() -> Int64 {
        Int64((Date().timeIntervalSince1970 * 1000).rounded(.down))
    }
}
