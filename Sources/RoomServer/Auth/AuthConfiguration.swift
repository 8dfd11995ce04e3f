public import Foundation

/// The `auth` section of the configuration (docs/CONFIGURATION.md):
///
/// ```json
/// "auth": {"mode": "jwt", "secretEnv": "ROOMS_JWT_SECRET", "jwksFile": "keys/jwks.json",
///          "issuer": "https://auth.example.com", "audience": "rooms", "leewaySeconds": 30}
/// ```
public struct AuthConfiguration: Sendable {
    /// How clients authenticate.
    public enum Mode: String, Sendable, CaseIterable {
        /// No authentication (local development): clients name themselves with `?user=NAME`, and
        /// every route is open.
        case none
        /// Every route but `/healthz` needs a signed JSON Web Token whose `sub` is the user.
        case jwt
    }

    /// The mode (default `none`).
    public var mode = Mode.none
    /// The environment variable holding the HMAC secret for HS256, HS384 and HS512 tokens. The
    /// secret itself is never in a file.
    public var secretEnv: String?
    /// A JSON Web Key Set of public keys (RS256/384/512, ES256/384, EdDSA), chosen by `kid`.
    public var jwksFile: String?
    /// The `iss` every token must carry, when set.
    public var issuer: String?
    /// The audience every token's `aud` must include, when set.
    public var audience: String?
    /// How far clocks may disagree: a token is accepted up to this long after its `exp` and
    /// before its `nbf` (default 30 s).
    public var leeway: Duration = .seconds(30)

    public init() {}
}
