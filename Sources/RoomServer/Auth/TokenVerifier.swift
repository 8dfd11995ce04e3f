import Foundation
import JWTKit
@_spi(Node) package import RoomRuntime

/// Verifies the JSON Web Tokens clients present, with jwt-kit: the signature (HMAC with the
/// secret named by `auth.secretEnv`, or a public key of `auth.jwksFile` chosen by `kid`), then
/// the claims the protocol relies on (docs/PROTOCOL.md, "Authentication").
///
/// Which key checks a token is decided by the token's `alg` only after the server made sure the
/// key is of that algorithm: `none` is never accepted, an HMAC algorithm is checked against the
/// secret only, and a public-key algorithm only against a key of its own family (so a token signed
/// "HS256" with a public key as its secret is checked against the secret, and fails).
package final class TokenVerifier: Sendable {
    /// The longest token accepted, in bytes: far above any real token, far below what would cost
    /// the server to parse.
    static let maxTokenBytes = 8_192

    private let hmac: [String: JWTKeyCollection]
    private let publicKeys: JWTKeyCollection?
    /// The `kid` of each public key, with the algorithms it may verify.
    private let publicAlgorithms: [String: Set<String>]
    private let issuer: String?
    private let audience: String?
    /// How far clocks may disagree, in milliseconds (`auth.leewaySeconds`).
    package let leewayMilliseconds: Int64

    /// Loads the keys `configuration` names.
    ///
    /// - Throws: ``ConfigurationError`` naming the key: no key configured, the secret's variable
    ///   unset or too short, the key set unreadable or holding a key without `kid`.
    package init(configuration: AuthConfiguration, environment: [String: String]) async throws {
        guard configuration.secretEnv != nil || configuration.jwksFile != nil else {
            throw ConfigurationError(key: "auth", "jwt mode needs \"secretEnv\" or \"jwksFile\" (or both)")
        }
        var hmac: [String: JWTKeyCollection] = [:]
        if let variable = configuration.secretEnv {
            guard let secret = environment[variable], !secret.isEmpty else {
                throw ConfigurationError(key: "auth.secretEnv", "the environment variable \(variable) is not set")
            }
            guard secret.utf8.count >= 32 else {
                throw ConfigurationError(
                    key: "auth.secretEnv", "the secret in \(variable) is shorter than 32 bytes (256 bits)")
            }
            // RFC 7518, section 3.2: a key as large as the hash output. A secret shorter than
            // that signs only with the smaller algorithms.
            for (name, digest, bytes) in [("HS256", DigestAlgorithm.sha256, 32), ("HS384", .sha384, 48), ("HS512", .sha512, 64)]
            where secret.utf8.count >= bytes {
                let keys = JWTKeyCollection()
                await keys.add(hmac: HMACKey(from: secret), digestAlgorithm: digest)
                hmac[name] = keys
            }
        }
        self.hmac = hmac
        if let path = configuration.jwksFile {
            let (keys, algorithms) = try await Self.loadKeySet(path: path)
            publicKeys = keys
            publicAlgorithms = algorithms
        } else {
            publicKeys = nil
            publicAlgorithms = [:]
        }
        issuer = configuration.issuer
        audience = configuration.audience
        leewayMilliseconds = configuration.leeway.milliseconds
    }

    /// Reads a JSON Web Key Set: every key needs a `kid`, and is of a family the server accepts.
    private static func loadKeySet(path: String) async throws -> (JWTKeyCollection, [String: Set<String>]) {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw ConfigurationError(key: "auth.jwksFile", "cannot read \(path) (\(error.localizedDescription))")
        }
        struct KeySet: Decodable {
            struct Key: Decodable {
                let kid: String?
                let kty: String
                let alg: String?
                let crv: String?
            }
            let keys: [Key]
        }
        guard let set = try? JSONDecoder().decode(KeySet.self, from: Data(text.utf8)), !set.keys.isEmpty else {
            throw ConfigurationError(key: "auth.jwksFile", "\(path) is not a JSON Web Key Set with at least one key")
        }
        var algorithms: [String: Set<String>] = [:]
        for (index, key) in set.keys.enumerated() {
            guard let kid = key.kid, !kid.isEmpty else {
                throw ConfigurationError(key: "auth.jwksFile", "key \(index) of \(path) has no \"kid\"")
            }
            var family: Set<String>
            switch (key.kty, key.crv) {
            case ("RSA", _): family = ["RS256", "RS384", "RS512"]
            case ("EC", "P-256"): family = ["ES256"]
            case ("EC", "P-384"): family = ["ES384"]
            case ("OKP", "Ed25519"): family = ["EdDSA"]
            default:
                throw ConfigurationError(
                    key: "auth.jwksFile",
                    "key '\(kid)' of \(path) is \(key.kty) \(key.crv ?? ""); accepted: RSA, EC P-256 or P-384, OKP Ed25519")
            }
            if let alg = key.alg {
                guard family.contains(alg) else {
                    throw ConfigurationError(key: "auth.jwksFile", "key '\(kid)' of \(path) is \(key.kty) but says alg \(alg)")
                }
                family = [alg]
            }
            algorithms[kid] = family
        }
        let keys = JWTKeyCollection()
        do {
            try await keys.add(jwksJSON: text)
        } catch {
            throw ConfigurationError(key: "auth.jwksFile", "\(path): \(error)")
        }
        return (keys, algorithms)
    }

    /// The claims of a token, as jwt-kit hands them over once the signature holds. The server
    /// checks them itself (``check(_:)``), to apply the leeway and say what is wrong.
    private struct Claims: JWTPayload {
        let members: [String: JSONValue]

        init(from decoder: any Decoder) throws {
            members = try decoder.singleValueContainer().decode([String: JSONValue].self)
        }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.singleValueContainer()
            try container.encode(members)
        }

        func verify(using algorithm: some JWTAlgorithm) async throws {}
    }

    private static func refuse(_ message: String) -> RoomError {
        .unauthorized(.unauthorized, message)
    }

    /// Verifies `token` and reads who it names.
    ///
    /// - Throws: ``RoomError`` `unauthorized` saying why (never repeating the token).
    package func verify(_ token: String, now: Int64 = WallClock.millisecondsSince1970()) async throws(RoomError) -> VerifiedToken {
        guard token.utf8.count <= Self.maxTokenBytes else {
            throw Self.refuse("the token is longer than \(Self.maxTokenBytes) bytes")
        }
        let header = try Self.header(of: token)
        guard let alg = header.alg else { throw Self.refuse("the token's header has no alg") }
        let keys: JWTKeyCollection
        if let collection = hmac[alg] {
            keys = collection
        } else if alg.hasPrefix("HS") {
            throw Self.refuse(
                hmac.isEmpty
                    ? "HMAC-signed tokens are not accepted here"
                    : "\(alg) is not accepted here (it needs a secret as long as its hash: 48 bytes for HS384, 64 for HS512)")
        } else if let publicKeys, let kid = header.kid {
            guard let accepted = publicAlgorithms[kid] else { throw Self.refuse("no key with the token's kid") }
            guard accepted.contains(alg) else { throw Self.refuse("the token's alg \(alg) is not its key's") }
            keys = publicKeys
        } else {
            throw Self.refuse(publicKeys == nil ? "algorithm \(alg) is not accepted here" : "the token names no kid")
        }
        let claims: Claims
        do {
            claims = try await keys.verify(token, as: Claims.self)
        } catch let error as JWTError where error.errorType == .signatureVerificationFailed {
            throw Self.refuse("the token's signature is not valid")
        } catch {
            throw Self.refuse("the token is malformed")
        }
        return try check(claims.members, now: now)
    }

    /// The parts of a token's header that choose its key.
    private struct Header: Decodable {
        let alg: String?
        let kid: String?
    }

    private static func header(of token: String) throws(RoomError) -> Header {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, let data = base64URLDecoded(parts[0]),
            let header = try? JSONDecoder().decode(Header.self, from: data)
        else {
            throw refuse("the token is not a JSON Web Token (header.payload.signature in base64url)")
        }
        return header
    }

    /// Decodes unpadded base64url (RFC 7515, section 2).
    private static func base64URLDecoded(_ text: Substring) -> Data? {
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        base64 += String(repeating: "=", count: (4 - base64.count % 4) % 4)
        return Data(base64Encoded: base64)
    }

    /// The furthest a claim's time may be from 1970, in seconds: the end of the year 9999 (and
    /// as far before). Refusing times beyond keeps every sum with an expiry within an `Int64` of
    /// milliseconds; a token signed with `"exp": 1e300` once trapped the server (found by the
    /// `token` fuzz target, Fuzz/Crashes/token).
    static let furthestNumericDate: Double = 253_402_300_799

    /// A claim's NumericDate (seconds since 1970, RFC 7519) in milliseconds, rounded down; nil
    /// when it is not finite or further than ``furthestNumericDate``.
    static func milliseconds(ofNumericDate seconds: Double) -> Int64? {
        guard seconds.isFinite, abs(seconds) <= furthestNumericDate else { return nil }
        return Int64((seconds * 1000).rounded(.down))
    }

    /// Checks the claims of a token whose signature holds.
    package func check(_ claims: [String: JSONValue], now: Int64) throws(RoomError) -> VerifiedToken {
        guard case .string(let subject)? = claims["sub"] else {
            throw Self.refuse("the token has no \"sub\" (the user)")
        }
        let user: String
        do {
            user = try UserName.validate(subject)
        } catch {
            throw Self.refuse("the token's \"sub\" is not a valid user name: \(error.message)")
        }
        guard case .number(let exp)? = claims["exp"] else {
            throw Self.refuse("the token has no numeric \"exp\"")
        }
        guard let expiresAt = Self.milliseconds(ofNumericDate: exp) else {
            throw Self.refuse("the token's \"exp\" is not a time between the years 0 and 9999")
        }
        guard now - leewayMilliseconds <= expiresAt else { throw Self.refuse("the token has expired") }
        switch claims["nbf"] {
        case nil, .null?:
            break
        case .number(let nbf)?:
            guard let notBefore = Self.milliseconds(ofNumericDate: nbf) else {
                throw Self.refuse("the token's \"nbf\" is not a time between the years 0 and 9999")
            }
            guard now + leewayMilliseconds >= notBefore else { throw Self.refuse("the token is not valid yet (nbf)") }
        default:
            throw Self.refuse("the token's \"nbf\" is not a number")
        }
        if let issuer {
            guard claims["iss"]?.stringValue == issuer else { throw Self.refuse("the token is from another issuer") }
        }
        if let audience {
            let audiences: [String]
            switch claims["aud"] {
            case .string(let one)?: audiences = [one]
            case .array(let many)?: audiences = many.compactMap(\.stringValue)
            default: audiences = []
            }
            guard audiences.contains(audience) else { throw Self.refuse("the token is for another audience") }
        }
        var rooms: [RoomPattern]?
        switch claims["rooms"] {
        case nil, .null?:
            break
        case .array(let entries)?:
            rooms = []
            for entry in entries {
                guard let text = entry.stringValue, let pattern = RoomPattern(text) else {
                    throw Self.refuse("the token's \"rooms\" holds something that is not \"kind/id\", \"kind/*\" or \"kind/prefix*\"")
                }
                rooms?.append(pattern)
            }
        default:
            throw Self.refuse("the token's \"rooms\" must be a list")
        }
        let admin: Bool
        switch claims["admin"] {
        case nil, .null?: admin = false
        case .bool(let value)?: admin = value
        default: throw Self.refuse("the token's \"admin\" must be true or false")
        }
        return VerifiedToken(
            identity: Identity(user: user, claims: claims, isVerified: true, isAdmin: admin, expiresAt: expiresAt),
            rooms: rooms)
    }
}
