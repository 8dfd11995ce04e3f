import Logging
import NIOCore
import NIOWebSocket
@_spi(Node) import RoomRuntime
import Synchronization
import WSCore

/// Runs one client's WebSocket: feeds what it sends to its room, and writes what the room sends.
struct WebSocketSession: Sendable {
    let target: WebSocketTarget
    /// Who connected, as the gatekeeper verified it.
    let identity: Identity
    let gatekeeper: Gatekeeper
    let runtime: RoomRuntime
    let sockets: SocketRegistry
    let maxMessageBytes: Int
    let maxQueuedFrames: Int
    /// How long a client has to answer a close the server started, once the close frame is on its
    /// way, before its connection is cut.
    let closeTimeout: Duration
    /// How long a close the server started may wait behind frames the client has not read yet.
    let closeDrainTimeout: Duration

    func run(inbound: WebSocketInboundStream, outbound: WebSocketOutboundWriter, channel: any Channel, logger: Logger)
        async throws
    {
        // Whenever the server closes (the room asked, the node is stopping, the client fell too far
        // behind), the close frame goes after the frames already written to the socket; WSCore's
        // writer sends it as soon as the socket takes writes again. A client that stopped reading
        // thus finds it after those frames when it reads again, if it does so within
        // `closeDrainTimeout`; once the frame is sent, the client has `closeTimeout` to answer.
        // Either deadline cuts the connection, which also frees a writer stuck on a client that
        // never reads again.
        let deadline = CloseDeadline { channel.close(promise: nil) }
        let outbox = Outbox(
            channel: channel, limit: maxQueuedFrames,
            onClose: { [closeDrainTimeout] in deadline.closeStarted(timeout: closeDrainTimeout) },
            onCloseReady: { [closeTimeout] code, reason in
                Task {
                    do {
                        try await outbound.close(WebSocketErrorCode(codeNumber: Int(code.rawValue)), reason: reason)
                        deadline.closeSent(timeout: closeTimeout)
                    } catch {
                        logger.trace("socket close failed", metadata: ["error": "\(error)"])
                    }
                }
            })
        defer { deadline.cancel() }
        guard sockets.add(outbox) else {
            try await outbound.close(.goingAway, reason: RoomError.Code.shuttingDown.rawValue)
            return
        }
        defer { sockets.remove(outbox) }
        try await channel.pipeline.addHandler(WritabilityObserver(outbox: outbox))
        let handle: ConnectionHandle
        do {
            handle = try runtime.connect(
                to: target.address, identity: identity, parameters: Gatekeeper.withoutToken(target.parameters),
                transport: outbox)
        } catch {
            try await outbound.write(.custom(Self.frame(ErrorFrame.frame(for: error))))
            try await outbound.close(
                WebSocketErrorCode(codeNumber: Int(CloseCode(closingFor: error).rawValue)), reason: error.code.rawValue)
            return
        }

        // Read until the client closes, the connection is cut, or the client breaks the protocol
        // (rethrown below, so that the WebSocket handler closes with the matching code: 1009 for
        // a message too large, 1002 for a protocol error). Writes need no task of their own: the
        // outbox writes on the socket's event loop. `receive` returns only when the room can take
        // more: a client that writes faster than its room commits is not read meanwhile, and TCP
        // holds it back.
        let credentials = SessionCredentials(
            identity: identity, address: target.address, gatekeeper: gatekeeper, handle: handle, transport: outbox)
        let expiry = credentials.watchExpiry()
        defer { expiry?.cancel() }
        var failure: (any Error)?
        do {
            for try await message in inbound.messages(maxSize: maxMessageBytes) {
                // Nothing of a client whose token expired reaches its room while it closes.
                guard !credentials.hasExpired else { continue }
                switch message {
                case .text(let text):
                    if gatekeeper.mode == .jwt, let frame = AuthFrame.parse(text) {
                        await credentials.refresh(with: frame)
                    } else {
                        await handle.receive(.text(text))
                    }
                case .binary(let bytes): await handle.receive(.binary(bytes))
                }
            }
        } catch {
            failure = error
        }
        // Every message read is queued before the disconnect, so none is overtaken by it.
        handle.disconnect()
        outbox.finish()
        if let failure { throw failure }
    }

    static func frame(_ frame: OutboundFrame) -> WebSocketFrame {
        WebSocketFrame(fin: true, opcode: frame.opcode == .text ? .text : .binary, data: frame.payload)
    }
}
