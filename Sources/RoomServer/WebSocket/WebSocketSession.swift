import Logging
import NIOCore
import NIOWebSocket
@_spi(Node) import RoomRuntime
import Synchronization
import WSCore

/// Runs one client's WebSocket: feeds what it sends to its room, and writes what the room sends.
struct WebSocketSession: Sendable {
    let target: WebSocketTarget
    let runtime: RoomRuntime
    let sockets: SocketRegistry
    let maxMessageBytes: Int
    let maxQueuedFrames: Int
    /// How long a client has to answer a close the server started before its connection is cut.
    let closeTimeout: Duration

    func run(inbound: WebSocketInboundStream, outbound: WebSocketOutboundWriter, channel: any Channel, logger: Logger)
        async throws
    {
        // Whenever the server closes (the room asked, the node is stopping, the client fell too far
        // behind), the client gets `closeTimeout` to answer; then the connection is cut. This also
        // frees a writer stuck on a client that stopped reading.
        let deadline = CloseDeadline()
        let outbox = Outbox(
            channel: channel, limit: maxQueuedFrames,
            onClose: { [closeTimeout] in
                deadline.start {
                    try? await Task.sleep(for: closeTimeout)
                    channel.close(promise: nil)
                }
            },
            onCloseReady: { code, reason in
                Task {
                    do {
                        try await outbound.close(WebSocketErrorCode(codeNumber: Int(code.rawValue)), reason: reason)
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
                to: target.address, user: target.user, parameters: target.parameters, transport: outbox)
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
        var failure: (any Error)?
        do {
            for try await message in inbound.messages(maxSize: maxMessageBytes) {
                switch message {
                case .text(let text): await handle.receive(.text(text))
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

/// The timer that cuts a connection whose close the client did not answer in time.
final class CloseDeadline: Sendable {
    private let state = Mutex<(task: Task<Void, Never>?, cancelled: Bool)>((nil, false))

    /// Starts `body` unless started or cancelled already.
    func start(_ body: @escaping @Sendable () async -> Void) {
        state.withLock { state in
            guard state.task == nil, !state.cancelled else { return }
            state.task = Task { await body() }
        }
    }

    /// Cancels the timer (the session ended by itself).
    func cancel() {
        state.withLock { state in
            state.cancelled = true
            state.task?.cancel()
        }
    }
}
