import Logging
import NIOCore
import NIOWebSocket
import RoomRuntime
import WSCore

/// Runs one client's WebSocket: feeds what it sends to its room, and writes what the room sends.
struct WebSocketSession: Sendable {
    let target: WebSocketTarget
    let runtime: RoomRuntime
    let sockets: SocketRegistry
    let maxMessageBytes: Int
    let maxQueuedFrames: Int
    /// How long to wait for the client's answer to a close the server started.
    let closeTimeout: Duration

    func run(inbound: WebSocketInboundStream, outbound: WebSocketOutboundWriter, logger: Logger) async throws {
        let outbox = Outbox(limit: maxQueuedFrames)
        guard sockets.add(outbox) else {
            try await outbound.close(.goingAway, reason: RoomError.Code.shuttingDown.rawValue)
            return
        }
        defer { sockets.remove(outbox) }
        let handle: ConnectionHandle
        do {
            handle = try runtime.connect(
                to: target.address, user: target.user, parameters: target.parameters, transport: outbox)
        } catch {
            try await outbound.write(.custom(Self.frame(ErrorFrame.frame(for: error))))
            try await outbound.close(.goingAway, reason: error.code.rawValue)
            return
        }

        try await withThrowingTaskGroup(of: Ending.self) { group in
            group.addTask { await Self.write(outbox, to: outbound, closeTimeout: closeTimeout, logger: logger) }
            group.addTask {
                for try await message in inbound.messages(maxSize: maxMessageBytes) {
                    switch message {
                    case .text(let text): handle.receive(.text(text))
                    case .binary(let bytes): handle.receive(.binary(bytes))
                    }
                }
                return .clientClosed
            }
            defer {
                handle.disconnect()
                outbox.finish()
            }
            // The client closed (or broke the protocol: rethrown, so that the WebSocket handler
            // closes with the matching code, 1009 or 1002), or the server closed and the client
            // did not answer in time.
            _ = try await group.next()
            group.cancelAll()
        }
    }

    private enum Ending: Sendable {
        case clientClosed
        case writerEnded
    }

    /// Writes what the rooms queue until the queue finishes or the socket fails. After writing a
    /// close, waits up to `closeTimeout` for the client's answer before giving up on it.
    private static func write(
        _ outbox: Outbox, to outbound: WebSocketOutboundWriter, closeTimeout: Duration, logger: Logger
    ) async -> Ending {
        do {
            while let items = await outbox.next() {
                for item in items {
                    switch item {
                    case .frame(let frame):
                        try await outbound.write(.custom(Self.frame(frame)))
                    case .close(let code, let reason):
                        try await outbound.close(WebSocketErrorCode(codeNumber: Int(code.rawValue)), reason: reason)
                        try? await Task.sleep(for: closeTimeout)
                        return .writerEnded
                    }
                }
            }
            // The queue finished: the session is ending anyway; wait to be cancelled.
            try? await Task.sleep(for: .seconds(3600))
        } catch {
            logger.trace("socket write failed", metadata: ["error": "\(error)"])
            // The socket is gone; the inbound side ends on its own.
            try? await Task.sleep(for: closeTimeout)
        }
        return .writerEnded
    }

    static func frame(_ frame: OutboundFrame) -> WebSocketFrame {
        WebSocketFrame(fin: true, opcode: frame.opcode == .text ? .text : .binary, data: frame.payload)
    }
}
