import Foundation
@_spi(Node) import RoomRuntime
import RoomServer

/// The one-pass scan of a frame's top-level `type` and `seq` (`TopLevelFields`), which the
/// Server-Sent Events and STOMP transports run on every frame they forward.
///
/// Invariant: on a JSON object whose `type` is a string and `seq` an integer, written without
/// escapes and without repeated keys (how the server writes its frames), the scan finds what a
/// JSON decoder does; on anything else it does not trap.
enum TopLevelFieldsFuzzing {
    static func run(_ bytes: [UInt8]) throws(FuzzFailure) {
        let fields = bytes.withUnsafeBytes { TopLevelFields(scanning: $0) }
        guard !bytes.contains(UInt8(ascii: "\\")),
            case .object(let object)? = try? JSONDecoder().decode(JSONValue.self, from: Data(bytes))
        else { return }
        let text = String(decoding: bytes, as: UTF8.self)
        if case .string(let type)? = object["type"], occurrences(of: "\"type\"", in: text) == 1 {
            try FuzzFailure.check(fields.type == type, "type \(type) scanned as \(fields.type ?? "nil")")
        }
        if case .number(let seq)? = object["seq"], occurrences(of: "\"seq\"", in: text) == 1,
            let integer = Int64(exactly: seq), abs(integer) < 1 << 53, !hasFraction(after: "\"seq\"", in: text)
        {
            try FuzzFailure.check(fields.seq == integer, "seq \(integer) scanned as \(fields.seq.map(String.init) ?? "nil")")
        }
    }

    private static func occurrences(of needle: String, in text: String) -> Int {
        text.components(separatedBy: needle).count - 1
    }

    /// Whether the number after `key` is written with a fraction or an exponent (`1.0`, `1e3`),
    /// which the scan does not read.
    private static func hasFraction(after key: String, in text: String) -> Bool {
        guard let range = text.range(of: key) else { return false }
        let rest = text[range.upperBound...].drop { $0 == ":" || $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" }
        let number = rest.prefix { "-+0123456789.eE".contains($0) }
        return number.contains { ".eE+".contains($0) }
    }
}
