/// Whether text contains a short marker such as `"ping"`: a plain byte search, for checks on the
/// path every message takes (Foundation's `contains` is slow there).
@_spi(Node)
public enum ByteSearch {
    /// Whether `bytes` contain `needle`, a marker whose first byte does not occur again in it but
    /// at its end (such as a quoted word).
    public static func contains(_ bytes: String.UTF8View, _ needle: [UInt8]) -> Bool {
        var matched = 0
        for byte in bytes {
            if byte == needle[matched] {
                matched += 1
                if matched == needle.count { return true }
            } else {
                matched = byte == needle[0] ? 1 : 0
            }
        }
        return false
    }
}
