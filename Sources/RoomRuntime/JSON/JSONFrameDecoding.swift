public import Foundation

/// Decodes client JSON into typed values and turns every failure into a ``RoomError`` a client
/// can act on.
public enum JSONFrameDecoding {
    /// Decodes `data` as a JSON object of type `T`.
    ///
    /// - Throws: ``RoomError`` `invalid_json` when `data` is not a JSON object, `missing_field`
    ///   when a required key is absent or null, `invalid_field` when a value has the wrong type.
    public static func decode<T: Decodable>(_ type: T.Type, from data: Data) throws(RoomError) -> T {
        // A cheap check first, so that `"text"`, `[1]` or `42` say "not an object" rather than
        // something about a field.
        guard let first = data.first(where: { !Self.isWhitespace($0) }), first == UInt8(ascii: "{") else {
            throw .badRequest(.invalidJSON, "expected a JSON object")
        }
        do {
            return try JSONDecoder().decode(T.self, from: data)
        } catch DecodingError.dataCorrupted(let context) where context.codingPath.isEmpty {
            // Foundation reports a well-formed number that does not fit its field (1.5 for an
            // integer, 1e400) as corrupt data at the top. Only an error is this slow path.
            if (try? JSONSerialization.jsonObject(with: data)) != nil {
                throw .badRequest(.invalidField, "a number does not fit the type of its field")
            }
            throw .badRequest(.invalidJSON, "malformed JSON")
        } catch let error as DecodingError {
            throw Self.roomError(for: error)
        } catch let error as RoomError {
            throw error
        } catch {
            throw .badRequest(.invalidJSON, "could not decode: \(error)")
        }
    }

    static func isWhitespace(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D
    }

    /// The ``RoomError`` that tells a client what is wrong with its JSON.
    public static func roomError(for error: DecodingError) -> RoomError {
        switch error {
        case .dataCorrupted(let context) where context.codingPath.isEmpty:
            return .badRequest(.invalidJSON, "malformed JSON")
        case .keyNotFound(let key, let context):
            return .badRequest(.missingField, "missing field '\(path(context.codingPath + [key]))'")
        case .valueNotFound(_, let context):
            return .badRequest(.missingField, "missing field '\(path(context.codingPath))'")
        case .typeMismatch(let type, let context):
            return .badRequest(.invalidField, "field '\(path(context.codingPath))' must be \(describe(type))")
        case .dataCorrupted(let context):
            return .badRequest(.invalidField, "field '\(path(context.codingPath))': \(context.debugDescription)")
        @unknown default:
            return .badRequest(.invalidJSON, "could not decode")
        }
    }

    /// The ``RoomError`` for any error a decoder throws. Foundation's decoder throws errors of
    /// its own from inside `init(from:)` (a number that does not fit the field's type, say).
    public static func roomError(for error: any Error) -> RoomError {
        if let error = error as? RoomError { return error }
        if let error = error as? DecodingError { return roomError(for: error) }
        return .badRequest(.invalidField, "a field does not fit its type: \(error)")
    }

    static func path(_ keys: [any CodingKey]) -> String {
        keys.map { $0.intValue.map(String.init) ?? $0.stringValue }.joined(separator: ".")
    }

    static func describe(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: return "a string"
        case is Int.Type, is Int64.Type, is Int32.Type, is UInt64.Type: return "an integer"
        case is Double.Type, is Float.Type: return "a number"
        case is Bool.Type: return "a boolean"
        default: return "\(type)"
        }
    }
}
