import Synchronization
@_spi(Node) import RoomRuntime

/// The token of one live WebSocket: when it expires, and its refresh by `auth` frames.
///
/// Once the token's `exp` (plus the leeway) passes, the client gets an `error` frame
/// `token_expired` and the close code 4401, unless it sent an `auth` frame with a newer token for
/// the same user first. A refresh for another user, or for a token whose `rooms` no longer cover
/// the room, is `forbidden` and closes with 4403; an invalid token is answered `unauthorized`,
/// and the connection keeps its current token.
final class SessionCredentials: Sendable {
    private let address: RoomAddress
    private let gatekeeper: Gatekeeper
    private let handle: ConnectionHandle
    private let transport: any ConnectionTransport
    private let user: String
    private struct State {
        var expiresAt: Int64?
        var expired = false
    }

    private let state: Mutex<State>
    /// `state.expired`, readable without the lock: it is read for every message the client sends.
    private let closing = Atomic(false)

    init(
        identity: Identity, address: RoomAddress, gatekeeper: Gatekeeper, handle: ConnectionHandle,
        transport: any ConnectionTransport
    ) {
        self.transport = transport
        self.address = address
        self.gatekeeper = gatekeeper
        self.handle = handle
        self.user = identity.user
        self.state = Mutex(State(expiresAt: identity.expiresAt))
    }

    /// Whether the token expired: the connection is closing.
    var hasExpired: Bool { closing.load(ordering: .relaxed) }

    /// Starts the task that closes the connection when its token expires; nil when the
    /// connection's identity has no expiry (no authentication).
    func watchExpiry() -> Task<Void, Never>? {
        guard state.withLock({ $0.expiresAt }) != nil, let leeway = gatekeeper.verifier?.leewayMilliseconds else {
            return nil
        }
        return Task { [self] in
            while !Task.isCancelled {
                let deadline = state.withLock { $0.expiresAt ?? .max } + leeway
                let now = WallClock.millisecondsSince1970()
                if now >= deadline {
                    expire()
                    return
                }
                try? await Task.sleep(for: .milliseconds(min(deadline - now, 3_600_000)))
            }
        }
    }

    private func expire() {
        let first = state.withLock { state in
            defer { state.expired = true }
            return !state.expired
        }
        guard first else { return }
        closing.store(true, ordering: .relaxed)
        let error = RoomError.unauthorized(.tokenExpired, "the connection's token expired; reconnect with a new one")
        transport.send(ErrorFrame.frame(for: error))
        transport.close(code: CloseCode(closingFor: error), reason: error.code.rawValue)
    }

    /// Handles an `auth` frame.
    func refresh(with frame: AuthFrame) async {
        guard let verifier = gatekeeper.verifier else { return }
        guard let token = frame.token else {
            transport.send(
                ErrorFrame.frame(for: .unauthorized(.unauthorized, "an auth frame carries a \"token\"", frameID: frame.id)))
            return
        }
        let verified: VerifiedToken
        do {
            verified = try await verifier.verify(token)
        } catch {
            transport.send(ErrorFrame.frame(for: error.answering(frame.id)))
            return
        }
        let refusal: RoomError? =
            if verified.identity.user != user {
                .forbidden(.forbidden, "the new token is for another user", frameID: frame.id)
            } else if !verified.covers(address) {
                .forbidden(.forbidden, "the new token's \"rooms\" claim does not cover this room", frameID: frame.id)
            } else {
                nil
            }
        if let refusal {
            state.withLock { $0.expired = true }
            closing.store(true, ordering: .relaxed)
            transport.send(ErrorFrame.frame(for: refusal))
            transport.close(code: CloseCode(closingFor: refusal), reason: refusal.code.rawValue)
            return
        }
        let expiresAt = verified.identity.expiresAt ?? 0
        let accepted = state.withLock { state -> Bool in
            guard !state.expired else { return false }
            state.expiresAt = expiresAt
            return true
        }
        guard accepted else { return }
        handle.refresh(verified.identity)
        if let frame = try? OutboundFrame.json(AuthFrame.Accepted(exp: expiresAt, id: frame.id)) {
            transport.send(frame)
        }
    }
}
