/// The `type` and `seq` members of a frame's top-level JSON object, found by one pass over its
/// bytes. Written by hand because it runs once per frame per Server-Sent Events stream or STOMP
/// subscription: decoding the whole frame would cost more than writing it. Nested objects and arrays, and strings (with their escapes),
/// are skipped; anything that is not a JSON object yields nothing.
package struct TopLevelFields {
    package private(set) var type: String?
    package private(set) var seq: Int64?

    package init(scanning bytes: UnsafeRawBufferPointer) {
        var index = 0
        var depth = 0
        // The last string read at depth 1, while it may still turn out to be a key.
        var key: Range<Int>?
        while index < bytes.count {
            let byte = bytes[index]
            switch byte {
            case UInt8(ascii: "\""):
                let start = index + 1
                index = start
                while index < bytes.count, bytes[index] != UInt8(ascii: "\"") {
                    index += bytes[index] == UInt8(ascii: "\\") ? 2 : 1
                }
                guard index < bytes.count else { return }
                if depth == 1 {
                    if let key, Self.equals(bytes, key, "type") {
                        type = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)
                        if seq != nil { return }
                    }
                    key = key == nil ? start..<index : nil
                }
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                depth += 1
                key = nil
            case UInt8(ascii: "}"), UInt8(ascii: "]"):
                depth -= 1
                key = nil
            case UInt8(ascii: ","):
                key = nil
            case UInt8(ascii: ":"):
                // `key` stays: the value that follows is its.
                break
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
                let start = index
                while index + 1 < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[index + 1]) {
                    index += 1
                }
                if depth == 1, let key, Self.equals(bytes, key, "seq") {
                    seq = Int64(String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start...index]), as: UTF8.self))
                    if type != nil { return }
                }
                key = nil
            default:
                break
            }
            index += 1
        }
    }

    private static func equals(_ bytes: UnsafeRawBufferPointer, _ range: Range<Int>, _ name: StaticString) -> Bool {
        guard range.count == name.utf8CodeUnitCount else { return false }
        return name.withUTF8Buffer { name in
            zip(bytes[range], name).allSatisfy { $0 == $1 }
        }
    }
}
