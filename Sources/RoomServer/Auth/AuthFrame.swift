import Foundation
@_spi(Node) package import RoomRuntime

/// The frame that refreshes a live connection's token: `{"type": "auth", "token", "id"?}`,
/// answered `{"type": "auth.ok", "exp": MS, "id"?}` by the server itself (it never reaches the
/// room).
package struct AuthFrame: Decodable {
    package let type: String
    package let token: String?
    package let id: String?

    /// The answer to an accepted refresh.
    struct Accepted: Encodable {
        let type = "auth.ok"
        /// When the new token expires, in milliseconds since 1970.
        let exp: Int64
        let id: String?
    }

    /// The longest text that can be an auth frame; longer frames go to the room untouched.
    static let maxBytes = TokenVerifier.maxTokenBytes + 512

    /// The auth frame `text` is, or nil when it is something else. Cheap for anything that is not
    /// one: only text mentioning `"auth"` is decoded.
    package static func parse(_ text: String) -> AuthFrame? {
        guard text.utf8.count <= maxBytes, ByteSearch.contains(text.utf8, Self.needle) else { return nil }
        guard let frame = try? JSONDecoder().decode(AuthFrame.self, from: Data(text.utf8)), frame.type == "auth" else {
            return nil
        }
        return frame
    }

    private static let needle: [UInt8] = Array("\"auth\"".utf8)
}
