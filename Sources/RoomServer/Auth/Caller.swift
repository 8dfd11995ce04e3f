@_spi(Node) import RoomRuntime

/// Who sent a request, as the ``Gatekeeper`` established it.
struct Caller: Sendable {
    /// The verified token (`auth.mode: "jwt"`); nil without authentication.
    let token: VerifiedToken?
    /// The user: the token's, or without authentication the `user` query parameter if given.
    let identity: Identity?

    /// A caller without authentication, self-named or anonymous.
    static func unauthenticated(user: String?) -> Caller {
        Caller(token: nil, identity: user.map(Identity.named))
    }
}
