/// Who is on the other end of a connection or an HTTP request.
///
/// With `auth.mode: "jwt"` the server verifies a signed token and the identity is its `sub`,
/// with every claim of the token readable in ``claims``: a room class can decide by them
///
/// ```swift
/// func onConnect(_ connection: RoomConnection, context: isolated RoomContext) async throws {
///     guard connection.identity.claims["plan"]?.stringValue == "pro" else {
///         throw RoomError.forbidden("plan_required", "this room is for pro accounts")
///     }
/// }
/// ```
///
/// With `auth.mode: "none"` (local development) clients name themselves (`?user=`): the
/// identity is not verified and carries no claims.
public struct Identity: Sendable, Equatable {
    /// The user: the token's `sub`, or the name a client gave itself.
    public var user: String
    /// The token's claims, as a JSON object; empty when nothing was verified.
    public var claims: [String: JSONValue]
    /// Whether the identity was verified (a valid token), rather than self-named.
    public var isVerified: Bool
    /// Whether the token grants the node's admin routes (`"admin": true`).
    public var isAdmin: Bool
    /// When the token expires (its `exp`), in milliseconds since 1970; nil when unverified.
    public var expiresAt: Int64?

    public init(
        user: String, claims: [String: JSONValue] = [:], isVerified: Bool = false, isAdmin: Bool = false,
        expiresAt: Int64? = nil
    ) {
        self.user = user
        self.claims = claims
        self.isVerified = isVerified
        self.isAdmin = isAdmin
        self.expiresAt = expiresAt
    }

    /// A user who named themselves (no authentication).
    public static func named(_ user: String) -> Identity {
        Identity(user: user)
    }
}
