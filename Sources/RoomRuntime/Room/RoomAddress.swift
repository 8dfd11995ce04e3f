/// The name of one room: its kind and its id.
///
/// A kind is a configured name (`chat`, `ai`, ...) made of lowercase ASCII letters, digits, `-`
/// and `_`, 1 to 64 characters. An id is any UTF-8 text of 1 to 256 bytes without control
/// characters. Ids are never used as file names: storage digests the address (see
/// `StorageLayout`).
public struct RoomAddress: Hashable, Sendable, CustomStringConvertible {
    /// The longest id, in UTF-8 bytes.
    public static let maxIDBytes = 256
    /// The longest kind name, in characters.
    public static let maxKindLength = 64

    /// The room's kind, as configured.
    public let kind: String
    /// The room's id, as the client gave it (already percent-decoded).
    public let id: String

    /// Validates `kind` and `id`.
    ///
    /// - Throws: ``RoomError`` `invalid_kind` or `invalid_room_id`.
    public init(kind: String, id: String) throws(RoomError) {
        guard Self.isValidKind(kind) else {
            throw .badRequest(.invalidKind, "kind must be 1 to \(Self.maxKindLength) characters of a-z, 0-9, '-' and '_'")
        }
        guard Self.isValidID(id) else {
            throw .badRequest(
                .invalidRoomID, "room id must be 1 to \(Self.maxIDBytes) bytes of UTF-8 without control characters")
        }
        self.kind = kind
        self.id = id
    }

    /// `kind/id`: the text the router hashes and the storage digests. Unambiguous, because a kind
    /// has no `/`.
    public var path: String { "\(kind)/\(id)" }

    public var description: String { path }

    /// Whether `kind` is a well-formed kind name.
    public static func isValidKind(_ kind: String) -> Bool {
        let bytes = kind.utf8
        guard !bytes.isEmpty, bytes.count <= maxKindLength else { return false }
        return bytes.allSatisfy { byte in
            (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z"))
                || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9"))
                || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "_")
        }
    }

    /// Whether `id` is a well-formed room id.
    public static func isValidID(_ id: String) -> Bool {
        let count = id.utf8.count
        guard count > 0, count <= maxIDBytes else { return false }
        return !id.unicodeScalars.contains { $0.properties.generalCategory == .control }
    }
}
