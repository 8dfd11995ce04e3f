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

        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await Self.write(outbox, to: outbound, logger: logger) }
            var failure: (any Error)?
            do {
                for try await message in inbound.messages(maxSize: maxMessageBytes) {
                    switch message {
                    case .text(let text): handle.receive(.text(text))
                    case .binary(let bytes): handle.receive(.binary(bytes))
                    }
                }
            } catch {
                // Too large a fragmented message, or a protocol error: the WebSocket handler
                // closes with the matching code (1009, 1002) once we rethrow.
                failure = error
            }
            handle.disconnect()
            outbox.finish()
            try await group.waitForAll()
            if let failure { throw failure }
        }
    }

    /// Writes what the rooms queue until the queue finishes or the socket fails.
    private static func write(_ outbox: Outbox, to outbound: WebSocketOutboundWriter, logger: Logger) async {
        do {
            while let items = await outbox.next() {
                for item in items {
                    switch item {
                    case .frame(let frame):
                        try await outbound.write(.custom(Self.frame(frame)))
                    case .close(let code, let reason):
                        try await outbound.close(WebSocketErrorCode(codeNumber: Int(code.rawValue)), reason: reason)
                        return
                    }
                }
            }
        } catch {
            logger.trace("socket write failed", metadata: ["error": "\(error)"])
        }
    }

    static func frame(_ frame: OutboundFrame) -> WebSocketFrame {
        WebSocketFrame(fin: true, opcode: frame.opcode == .text ? .text : .binary, data: frame.payload)
    }
}
