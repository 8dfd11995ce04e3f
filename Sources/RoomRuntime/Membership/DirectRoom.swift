import Crypto

/// The id of a one-to-one room: the same for both users, whichever of them asks.
///
/// It is the SHA-256 of the two user names in sorted order and the topic, each prefixed with its
/// length (so that no two different triples hash the same input), in hex: 64 characters that
/// reveal neither user nor topic in URLs and logs.
public enum DirectRoom {
    /// The longest topic, in UTF-8 bytes.
    public static let maxTopicBytes = 128

    /// The id of the room between `first` and `second` about `topic` (nil for none).
    public static func id(between first: String, and second: String, topic: String?) -> String {
        let (low, high) = first < second ? (first, second) : (second, first)
        var input: [UInt8] = []
        for part in [low, high, topic ?? ""] {
            let bytes = Array(part.utf8)
            withUnsafeBytes(of: UInt32(bytes.count).bigEndian) { input.append(contentsOf: $0) }
            input.append(contentsOf: bytes)
        }
        // A topic-less room and one whose topic is empty would collide: mark which one this is.
        input.append(topic == nil ? 0 : 1)
        return SHA256.hash(data: input).map { byte in
            let digits = Array("0123456789abcdef".utf8)
            return String(decoding: [digits[Int(byte >> 4)], digits[Int(byte & 0x0f)]], as: UTF8.self)
        }.joined()
    }
}
