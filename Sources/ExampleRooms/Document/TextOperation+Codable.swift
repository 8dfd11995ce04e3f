public import Foundation

extension TextOperation: Codable {
    /// The most positions an operation may retain and delete together: far beyond any document
    /// (a doc room holds 64 MiB at most), and far enough below `Int.max` that sums of lengths
    /// never overflow. Without it, `{"retain": 9223372036854775807}, {"delete": 1}` trapped the
    /// server (found by the `document` fuzz target, Fuzz/Crashes/document).
    public static let maxSpan = Int(Int32.max)

    /// Decodes `[{"retain": N}, {"insert": "text"}, {"delete": N}, ...]`: each component an object
    /// with exactly one of the three keys, counts of at least 1, inserted text not empty, and the
    /// counts together at most ``maxSpan``.
    public init(from decoder: any Decoder) throws {
        var container = try decoder.unkeyedContainer()
        self.init()
        while !container.isAtEnd {
            let component = try container.decode(WireComponent.self)
            switch (component.retain, component.insert, component.delete) {
            case (let count?, nil, nil) where count > 0 && count <= Self.maxSpan - baseLength: retain(count)
            case (nil, let text?, nil) where !text.isEmpty: insert(text)
            case (nil, nil, let count?) where count > 0 && count <= Self.maxSpan - baseLength: delete(count)
            default:
                throw DecodingError.dataCorruptedError(
                    in: container,
                    debugDescription:
                        "each component is one of {\"retain\": N}, {\"insert\": \"text\"}, {\"delete\": N} with N >= 1 and the text not empty, the Ns together at most \(Self.maxSpan)"
                )
            }
        }
    }

    /// Encodes the components without a trailing retain.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.unkeyedContainer()
        for component in trimmed {
            switch component {
            case .retain(let count): try container.encode(WireComponent(retain: count))
            case .insert(let text): try container.encode(WireComponent(insert: text))
            case .delete(let count): try container.encode(WireComponent(delete: count))
            }
        }
    }

    /// Every component as JSON, a trailing retain included: how the room stores an operation, so
    /// that it reads back spanning the document it applied to.
    public func encodedWhole() throws -> Data {
        try JSONEncoder().encode(
            components.map { component in
                switch component {
                case .retain(let count): WireComponent(retain: count)
                case .insert(let text): WireComponent(insert: text)
                case .delete(let count): WireComponent(delete: count)
                }
            })
    }

    /// One component as JSON: exactly one of the keys is set.
    private struct WireComponent: Codable {
        var retain: Int?
        var insert: String?
        var delete: Int?
    }
}
