import Crypto
import Foundation
import JWTKit
@_spi(Node) import RoomRuntime
import CryptoExtras

/// Signs tokens for tests with jwt-kit: HS256 with a shared secret, and ES256 and RS256 with keys
/// published in a JSON Web Key Set file.
struct TokenMint: Sendable {
    /// The HMAC secret, as the server reads it from the environment.
    static let secret = "the-test-secret-that-is-long-enough-for-hs256-0123456789"
    /// The environment variable the tests' configurations name.
    static let variable = "ROOMS_TEST_JWT_SECRET"

    let hmac = JWTKeyCollection()
    let publicKeys = JWTKeyCollection()
    let ecKey = ES256PrivateKey()
    let rsaKey: JWTKit.Insecure.RSA.PrivateKey
    /// The key set (public halves), as JSON.
    let keySet: String

    /// A token's claims, any JSON.
    struct Claims: JWTPayload {
        var members: [String: JSONValue]

        init(_ members: [String: JSONValue]) { self.members = members }

        init(from decoder: any Decoder) throws {
            members = try decoder.singleValueContainer().decode([String: JSONValue].self)
        }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.singleValueContainer()
            try container.encode(members)
        }

        func verify(using algorithm: some JWTAlgorithm) async throws {}
    }

    static func make() async throws -> TokenMint {
        let rsa = try JWTKit.Insecure.RSA.PrivateKey(backing: _RSA.Signing.PrivateKey(keySize: .bits2048))
        return try await TokenMint(rsaKey: rsa)
    }

    private init(rsaKey: JWTKit.Insecure.RSA.PrivateKey) async throws {
        self.rsaKey = rsaKey
        await hmac.add(hmac: HMACKey(from: Self.secret), digestAlgorithm: .sha256)
        await publicKeys.add(ecdsa: ecKey, kid: "ec1")
        await publicKeys.add(rsa: rsaKey, digestAlgorithm: .sha256, kid: "rsa1")
        let (x, y) = ecKey.parameters!
        let primitives = try _RSA.Signing.PublicKey(pemRepresentation: rsaKey.publicKey.pemRepresentation)
            .getKeyPrimitives()
        keySet = """
            {"keys": [
              {"kty": "EC", "crv": "P-256", "kid": "ec1", "use": "sig", "x": "\(x)", "y": "\(y)"},
              {"kty": "RSA", "kid": "rsa1", "alg": "RS256", "use": "sig",
               "n": "\(Self.base64URL(primitives.modulus))", "e": "\(Self.base64URL(primitives.publicExponent))"}
            ]}
            """
    }

    static func base64URL(_ data: some DataProtocol) -> String {
        Data(data).base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    /// The standard claims for `sub`, valid for `ttl` seconds, with `extra` added.
    static func claims(_ sub: String?, _ ttl: Double = 300, _ extra: [String: JSONValue] = [:]) -> [String: JSONValue] {
        let now = Date().timeIntervalSince1970.rounded(.down)
        var claims: [String: JSONValue] = ["iat": .number(now), "exp": .number(now + ttl)]
        if let sub { claims["sub"] = .string(sub) }
        return claims.merging(extra) { _, new in new }
    }

    /// An HS256 token for `sub`.
    func hs256(_ sub: String?, _ ttl: Double = 300, _ extra: [String: JSONValue] = [:]) async throws -> String {
        try await hmac.sign(Claims(Self.claims(sub, ttl, extra)))
    }

    /// An ES256 token for `sub`, naming the key `ec1`.
    func es256(_ sub: String, _ ttl: Double = 300, _ extra: [String: JSONValue] = [:]) async throws -> String {
        try await publicKeys.sign(Claims(Self.claims(sub, ttl, extra)), kid: "ec1")
    }

    /// An RS256 token for `sub`, naming the key `rsa1`.
    func rs256(_ sub: String, kid: String = "rsa1") async throws -> String {
        try await publicKeys.sign(Claims(Self.claims(sub)), kid: JWKIdentifier(string: kid))
    }

    /// A token with `header` and `claims` as given, signed with HMAC-SHA256 under `secret` (for
    /// tokens no honest signer makes: `alg: none`, a public key used as an HMAC secret).
    static func forged(header: String, claims: [String: JSONValue], secret: String?) -> String {
        let encodedHeader = base64URL(Data(header.utf8))
        let payload = base64URL(try! JSONEncoder().encode(claims))
        let input = "\(encodedHeader).\(payload)"
        guard let secret else { return input + "." }
        let signature = HMAC<SHA256>.authenticationCode(for: Data(input.utf8), using: SymmetricKey(data: Data(secret.utf8)))
        return input + "." + base64URL(Data(signature))
    }
}
