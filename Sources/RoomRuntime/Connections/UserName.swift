/// The rules for user names (until authentication arrives, clients name themselves).
public enum UserName {
    /// The longest user name, in UTF-8 bytes.
    public static let maxBytes = 128

    /// Checks `name`: 1 to 128 bytes of UTF-8 without control characters.
    ///
    /// - Throws: ``RoomError`` `invalid_user`.
    public static func validate(_ name: String?) throws(RoomError) -> String {
        guard let name, !name.isEmpty else {
            throw .badRequest(.invalidUser, "a user name is required")
        }
        guard name.utf8.count <= maxBytes,
            !name.unicodeScalars.contains(where: { $0.properties.generalCategory == .control })
        else {
            throw .badRequest(.invalidUser, "a user name is 1 to \(maxBytes) bytes of UTF-8 without control characters")
        }
        return name
    }
}
