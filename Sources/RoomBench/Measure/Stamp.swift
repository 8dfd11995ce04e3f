import NIOCore

/// The timestamp a benchmark message carries: microseconds on the harness's monotonic clock,
/// in decimal, at the start of the message's text. Sender and receivers are in the same process,
/// so the difference is the message's latency through the server.
enum Stamp {
    /// Now, in microseconds of the monotonic clock.
    static var now: UInt64 { NIODeadline.now().uptimeNanoseconds / 1_000 }

    /// A message text of `size` bytes (at least the stamp and a colon): `STAMP:xxxx...`.
    static func text(size: Int, at stamp: UInt64 = now) -> String {
        let head = "\(stamp):"
        return head + String(repeating: "x", count: max(0, size - head.utf8.count))
    }

    /// The stamp at the start of `bytes`, if they start with digits followed by a colon.
    static func parse(_ bytes: UnsafeRawBufferPointer, from start: Int) -> UInt64? {
        var value: UInt64 = 0
        var index = start
        while index < bytes.count, (48...57).contains(bytes[index]) {
            value = value &* 10 &+ UInt64(bytes[index] - 48)
            index += 1
        }
        guard index > start, index < bytes.count, bytes[index] == UInt8(ascii: ":") else { return nil }
        return value
    }

    /// The offset just after the first occurrence of `needle` in `bytes`, if any.
    static func offset(after needle: [UInt8], in bytes: UnsafeRawBufferPointer) -> Int? {
        guard needle.count <= bytes.count, let first = needle.first else { return nil }
        var index = 0
        let last = bytes.count - needle.count
        while index <= last {
            if bytes[index] == first {
                var matched = 1
                while matched < needle.count, bytes[index + matched] == needle[matched] { matched += 1 }
                if matched == needle.count { return index + needle.count }
            }
            index += 1
        }
        return nil
    }
}
