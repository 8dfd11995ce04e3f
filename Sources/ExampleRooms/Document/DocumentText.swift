public import RoomRuntime

/// A document's text as UTF-16 code units (the positions operations count), with its size in
/// UTF-8 bytes (what `maxDocumentBytes` limits) kept up to date as operations apply.
public struct DocumentText: Sendable, Equatable {
    /// The text's UTF-16 code units.
    public private(set) var units: [UInt16]
    /// The text's size in UTF-8 bytes.
    public private(set) var utf8Count: Int

    /// A document holding `text`.
    public init(_ text: String = "") {
        units = Array(text.utf16)
        utf8Count = text.utf8.count
    }

    /// The text.
    public var string: String {
        // Transcoded here rather than with `String(decoding: units, as: UTF16.self)`: the standard
        // library decodes UTF-16 through generic, unspecialized code, about ten times slower (a
        // quarter of the room's time under `rooms bench doc`, at one snapshot per 100 edits). The
        // units are valid UTF-16: `apply` never cuts a surrogate pair.
        String(unsafeUninitializedCapacity: utf8Count) { buffer in
            var written = 0
            var index = 0
            func put(_ byte: UInt32) {
                buffer[written] = UInt8(truncatingIfNeeded: byte)
                written += 1
            }
            while index < units.count {
                var scalar = UInt32(units[index])
                index += 1
                if UTF16.isLeadSurrogate(UInt16(scalar)), index < units.count, UTF16.isTrailSurrogate(units[index]) {
                    scalar = 0x10000 + ((scalar - 0xD800) << 10) + (UInt32(units[index]) - 0xDC00)
                    index += 1
                }
                switch scalar {
                case 0..<0x80:
                    put(scalar)
                case 0x80..<0x800:
                    put(0xC0 | scalar >> 6)
                    put(0x80 | scalar & 0x3F)
                case 0x10000...:
                    put(0xF0 | scalar >> 18)
                    put(0x80 | scalar >> 12 & 0x3F)
                    put(0x80 | scalar >> 6 & 0x3F)
                    put(0x80 | scalar & 0x3F)
                default:
                    put(0xE0 | scalar >> 12)
                    put(0x80 | scalar >> 6 & 0x3F)
                    put(0x80 | scalar & 0x3F)
                }
            }
            return written
        }
    }

    /// The length in UTF-16 code units.
    public var count: Int { units.count }

    /// Applies `operation`, or throws and leaves the text as it was.
    ///
    /// - Throws: ``RoomError`` `invalid_operation` when the operation does not span the text
    ///   exactly or cuts a surrogate pair (half an emoji), `document_too_large` when the result
    ///   would be over `maxBytes` UTF-8 bytes.
    public mutating func apply(_ operation: TextOperation, maxBytes: Int = .max) throws(RoomError) {
        guard operation.baseLength == units.count else {
            throw .badRequest(
                .invalidOperation,
                "the operation spans \(operation.baseLength) positions but the document has \(units.count)")
        }
        var result: [UInt16] = []
        result.reserveCapacity(operation.targetLength)
        var bytes = utf8Count
        var position = 0
        for component in operation.components {
            try checkBoundary(at: position)
            switch component {
            case .retain(let count):
                result.append(contentsOf: units[position..<position + count])
                position += count
            case .insert(let text):
                result.append(contentsOf: text.utf16)
                bytes += text.utf8.count
            case .delete(let count):
                bytes -= Self.utf8Count(of: units[position..<position + count])
                position += count
            }
        }
        try checkBoundary(at: position)
        guard bytes <= maxBytes else {
            throw .tooLarge(
                .documentTooLarge, "the document would be \(bytes) bytes; this kind allows \(maxBytes)")
        }
        units = result
        utf8Count = bytes
    }

    /// Refuses a position between the two halves of a surrogate pair.
    private func checkBoundary(at position: Int) throws(RoomError) {
        guard position > 0, position < units.count else { return }
        if UTF16.isLeadSurrogate(units[position - 1]), UTF16.isTrailSurrogate(units[position]) {
            throw .badRequest(
                .invalidOperation, "position \(position) is inside a surrogate pair (one character of two code units)")
        }
    }

    /// The UTF-8 size of some UTF-16 code units (whole characters: a surrogate pair is 4 bytes).
    static func utf8Count(of units: ArraySlice<UInt16>) -> Int {
        var bytes = 0
        for unit in units {
            switch unit {
            case 0..<0x80: bytes += 1
            case 0x80..<0x800: bytes += 2
            case 0xD800..<0xDC00: bytes += 2  // a lead surrogate: half of a 4-byte character
            case 0xDC00..<0xE000: bytes += 2  // a trail surrogate: the other half
            default: bytes += 3
            }
        }
        return bytes
    }
}
