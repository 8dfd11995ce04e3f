import HummingbirdWSClient
import Logging
import NIOCore
import NIOWebSocket
import WSCore

/// One WebSocket connection, run by Hummingbird's WebSocket client in a task of its own: text
/// frames received go to `received`, in order, one at a time; frames to send are queued with
/// ``send(_:)``; when the connection ends, `ended` gets the close code (1006 when the link was
/// lost or never opened) and its reason.
final class Connection: Sendable {
    private enum Command: Sendable {
        case text(String)
        case close(code: Int, reason: String)
    }

    private let commands: AsyncStream<Command>.Continuation
    private let session: Task<Void, Never>

    /// Connects to `url` and runs the connection until it ends.
    init(
        url: String, maxFrameSize: Int,
        received: @escaping @Sendable (String) async -> Void,
        ended: @escaping @Sendable (_ code: Int, _ reason: String) async -> Void
    ) {
        let (commandStream, commands) = AsyncStream.makeStream(of: Command.self)
        self.commands = commands
        var configuration = WebSocketClientConfiguration()
        configuration.maxFrameSize = maxFrameSize
        configuration.autoPing = .disabled
        configuration.closeTimeout = .seconds(2)
        let logger = Logger(label: "RoomsClient") { _ in SwiftLogNoOpLogHandler() }
        session = Task {
            let code: Int
            let reason: String
            do {
                let close = try await WebSocketClient.connect(url: url, configuration: configuration, logger: logger) {
                    inbound, outbound, _ in
                    try await withThrowingTaskGroup(of: Void.self) { group in
                        group.addTask {
                            // However reading ends (a close frame, a reset link), the writing
                            // loop below must end too, or the connection would never report.
                            defer { commands.finish() }
                            for try await message in inbound.messages(maxSize: maxFrameSize) {
                                if case .text(let text) = message { await received(text) }
                            }
                        }
                        writing: for await command in commandStream {
                            switch command {
                            case .text(let text):
                                try await outbound.write(.text(text))
                            case .close(let code, let reason):
                                try await outbound.close(.init(codeNumber: code), reason: reason)
                                break writing
                            }
                        }
                        group.cancelAll()
                    }
                }
                if let close {
                    code = Int(UInt16(webSocketErrorCode: close.closeCode))
                    reason = close.reason ?? ""
                } else {
                    code = CloseCode.abnormal
                    reason = "connection lost"
                }
            } catch let error as WebSocketClientError where error == .webSocketUpgradeFailed {
                code = CloseCode.abnormal
                reason = "upgrade refused"
            } catch {
                code = CloseCode.abnormal
                reason = "\(error)"
            }
            await ended(code, reason)
        }
    }

    /// Queues a text frame (dropped if the connection is over).
    func send(_ text: String) {
        commands.yield(.text(text))
    }

    /// Closes the connection from this side and lets it go: the close frame is sent if the link
    /// still works, and the task is cancelled a moment later. A task stuck in
    /// `WebSocketClient.connect` (see ``RoomClient``) may ignore the cancellation: it is abandoned.
    func close(code: Int, reason: String) {
        commands.yield(.close(code: code, reason: reason))
        commands.finish()
        let session = session
        Task {
            try? await Task.sleep(for: .seconds(2))
            session.cancel()
        }
    }
}
