import NIOCore
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
        /// The timer that checks the expiry next, while the connection is open.
        var timer: Scheduled<Void>?
        var stopped = false
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

    /// Closes the connection when its token expires, checking again after each refresh, with a
    /// timer on `loop` (the socket's event loop: no task per connection); nothing when the
    /// connection's identity has no expiry (no authentication).
    func watchExpiry(on loop: any EventLoop) {
        guard let leeway = gatekeeper.verifier?.leewayMilliseconds,
            let expiresAt = state.withLock({ $0.stopped ? nil : $0.expiresAt })
        else { return }
        let deadline = expiresAt + leeway
        let now = WallClock.millisecondsSince1970()
        guard now < deadline else { return expire() }
        let timer = loop.scheduleTask(in: .milliseconds(min(deadline - now, 3_600_000))) { [self] in
            watchExpiry(on: loop)
        }
        let stopped = state.withLock { state in
            if !state.stopped { state.timer = timer }
            return state.stopped
        }
        if stopped { timer.cancel() }
    }

    /// The connection closed: no more expiry checks.
    func stopWatching() {
        let timer = state.withLock { state in
            state.stopped = true
            defer { state.timer = nil }
            return state.timer
        }
        timer?.cancel()
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
