import Foundation
@_spi(Node) package import RoomRuntime

/// Decides who a request comes from and what it may reach, before any route runs, any
/// WebSocket is upgraded or any file is created (docs/PROTOCOL.md, "Authentication"):
///
/// - with `auth.mode: "jwt"`, every route but `/healthz` needs a valid token, in
///   `Authorization: Bearer <jwt>` or (for browsers, whose WebSocket and EventSource cannot set
///   headers) `?token=<jwt>`: `401 unauthorized` otherwise;
/// - the token's `rooms` claim limits the rooms it opens, and the node's operations routes need
///   `"admin": true`: `403 forbidden` otherwise;
/// - a browser's `Origin` must be allowed (``OriginPolicy``): `403 forbidden_origin` otherwise.
///
/// With `auth.mode: "none"` everyone may do everything, and a client names itself with `?user=`.
package struct Gatekeeper: Sendable {
    let mode: AuthConfiguration.Mode
    let verifier: TokenVerifier?
    let origins: OriginPolicy

    /// The query parameter that may carry a token.
    static let tokenParameter = "token"

    static let missingToken = RoomError.unauthorized(
        .unauthorized, "a token is required: Authorization: Bearer <jwt>, or ?token=<jwt>")

    /// Who sends a request with `authorization` (its `Authorization` header) and `query`.
    ///
    /// - Throws: ``RoomError`` `unauthorized` (jwt mode), `invalid_user` (a malformed `?user=`
    ///   without authentication).
    func authenticate(authorization: String?, query: [String: String]) async throws(RoomError) -> Caller {
        guard mode == .jwt, let verifier else {
            return .unauthenticated(user: try query["user"].map { name throws(RoomError) in try UserName.validate(name) })
        }
        let token: String
        if let authorization {
            let parts = authorization.split(separator: " ", maxSplits: 1)
            guard parts.count == 2, parts[0].lowercased() == "bearer" else {
                throw .unauthorized(.unauthorized, "the Authorization header must be \"Bearer <jwt>\"")
            }
            token = parts[1].trimmingCharacters(in: .whitespaces)
        } else if let parameter = query[Self.tokenParameter] {
            token = parameter
        } else {
            throw Self.missingToken
        }
        let verified = try await verifier.verify(token)
        return Caller(token: verified, identity: verified.identity)
    }

    /// Checks that `caller` may use the node's operations routes (`GET /rooms`, `DELETE`,
    /// `/metrics`).
    func requireAdmin(_ caller: Caller) throws(RoomError) {
        guard mode == .jwt else { return }
        guard caller.token?.identity.isAdmin == true else {
            throw .forbidden(.forbidden, "this route needs an admin token (\"admin\": true)")
        }
    }

    /// Checks that `caller`'s token opens the room at `address` (its `rooms` claim).
    func authorize(_ caller: Caller, for address: RoomAddress) throws(RoomError) {
        guard mode == .jwt else { return }
        guard let token = caller.token, token.covers(address) else {
            throw .forbidden(.forbidden, "the token's \"rooms\" claim does not cover \(address.kind)/\(address.id)")
        }
    }

    /// Checks a browser's origin: every `Origin` header a request carries must be allowed.
    ///
    /// - Throws: ``RoomError`` `forbidden_origin`.
    func checkOrigins(_ values: [String], host: String?) throws(RoomError) {
        for origin in values where !origins.allows(origin: origin, host: host) {
            throw .forbidden(.forbiddenOrigin, "origin \(origin) is not allowed (server.allowedOrigins)")
        }
    }

    /// `query` without the token, for rooms to see and logs to print.
    package static func withoutToken(_ query: [String: String]) -> [String: String] {
        var query = query
        query.removeValue(forKey: tokenParameter)
        return query
    }
}
