import NIOCore
@_spi(Node) import RoomRuntime

/// DurableRooms' own protocol on a WebSocket (docs/PROTOCOL.md, "WebSocket"): one connection of
/// one room. Messages go to the room with ``ConnectionHandle/offer(_:whenReady:)``, so that a
/// client sending faster than its room commits is not read until the room caught up; `auth`
/// frames refresh the connection's token (with `auth.mode: "jwt"`).
final class RoomSocketApplication: SocketApplication {
    private let target: WebSocketTarget
    private let identity: Identity
    private let settings: SocketSettings
    private var handle: ConnectionHandle?
    /// The token's expiry and refreshes (with `auth.mode: "jwt"` only).
    private var credentials: SessionCredentials?

    init(target: WebSocketTarget, identity: Identity, settings: SocketSettings) {
        self.target = target
        self.identity = identity
        self.settings = settings
    }

    var maxMessageBytes: Int { settings.maxMessageBytes }

    func open(outbox: Outbox, context: ChannelHandlerContext) {
        let handle: ConnectionHandle
        do {
            handle = try settings.runtime.connect(
                to: target.address, identity: identity, parameters: Gatekeeper.withoutToken(target.parameters),
                transport: outbox)
        } catch {
            outbox.send(ErrorFrame.frame(for: error))
            outbox.close(code: CloseCode(closingFor: error), reason: error.code.rawValue)
            return
        }
        self.handle = handle
        if settings.gatekeeper.mode == .jwt {
            let credentials = SessionCredentials(
                identity: identity, address: target.address, gatekeeper: settings.gatekeeper, handle: handle,
                transport: outbox)
            credentials.watchExpiry(on: context.eventLoop)
            self.credentials = credentials
        }
    }

    func receive(_ message: ClientMessage, resume: @escaping @Sendable () -> Void) -> Bool {
        guard let handle else { return true }
        if let credentials {
            // Nothing of a client whose token expired reaches its room while it closes.
            guard !credentials.hasExpired else { return true }
            if case .text(let text) = message, let frame = AuthFrame.parse(text) {
                // Verifying may take a moment: the messages after it wait, in order.
                Task {
                    await credentials.refresh(with: frame)
                    resume()
                }
                return false
            }
        }
        return handle.offer(message, whenReady: resume)
    }

    /// Messages still queued in the room for this connection are dropped (the client got no ack
    /// for them, and resends by id).
    func end() {
        credentials?.stopWatching()
        handle?.disconnect()
    }
}
