import Foundation
import HTTPTypes
import RoomTesting
import HummingbirdWSClient
import Logging
import NIOCore
import NIOWebSocket
import Synchronization

/// A real WebSocket client, driven step by step from a test.
final class TestSocket: Sendable {
    enum Command: Sendable {
        case text(String)
        case binary([UInt8])
        case close
    }

    /// The text frames received, in order.
    final class Inbox: Sendable {
        let texts = Mutex<[String]>([])
        /// The frames decoded as JSON objects, in arrival order (decoded once, on arrival).
        let frames = Mutex<[[String: Any]]>([])

        func append(_ text: String) {
            texts.withLock { $0.append(text) }
            frames.withLock { frames in
                if let object = (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any] {
                    frames.append(object)
                }
            }
        }
    }

    private let inbox: Inbox
    private let commands: AsyncStream<Command>.Continuation
    private let session: Task<WebSocketCloseFrame?, any Error>

    private init(inbox: Inbox, commands: AsyncStream<Command>.Continuation, session: Task<WebSocketCloseFrame?, any Error>) {
        self.inbox = inbox
        self.commands = commands
        self.session = session
    }

    static func connect(url: String, headers: HTTPFields = [:]) async throws -> TestSocket {
        let (commandStream, commands) = AsyncStream.makeStream(of: Command.self)
        let (connectedStream, connected) = AsyncStream.makeStream(of: Void.self)
        let inbox = Inbox()
        var logger = Logger(label: "test-socket")
        logger.logLevel = .warning
        var configuration = WebSocketClientConfiguration()
        configuration.maxFrameSize = 1 << 20
        configuration.additionalHeaders = headers
        let session = Task {
            defer { connected.finish() }
            return try await WebSocketClient.connect(url: url, configuration: configuration, logger: logger) {
                inbound, outbound, _ in
                connected.yield()
                connected.finish()
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask {
                        for try await message in inbound.messages(maxSize: 1 << 20) {
                            if case .text(let text) = message {
                                inbox.append(text)
                            }
                        }
                        commands.finish()
                    }
                    for await command in commandStream {
                        switch command {
                        case .text(let text): try await outbound.write(.text(text))
                        case .binary(let bytes): try await outbound.write(.binary(ByteBuffer(bytes: bytes)))
                        case .close:
                            try await outbound.close(.normalClosure, reason: nil)
                            commands.finish()
                        }
                    }
                    try await group.waitForAll()
                }
            }
        }
        let socket = TestSocket(inbox: inbox, commands: commands, session: session)
        var iterator = connectedStream.makeAsyncIterator()
        if await iterator.next() == nil {
            // The connection failed: surface its error.
            _ = try await session.value
            throw TestFailure("the WebSocket connection ended before opening")
        }
        return socket
    }

    /// Sends a text frame.
    func send(_ text: String) {
        commands.yield(.text(text))
    }

    /// Sends a JSON object as a text frame.
    func send(json: [String: Any]) {
        send(String(decoding: try! JSONSerialization.data(withJSONObject: json), as: UTF8.self))
    }

    /// Sends a binary frame.
    func sendBinary(_ bytes: [UInt8]) {
        commands.yield(.binary(bytes))
    }

    /// Closes the connection from this side and returns the server's close frame.
    @discardableResult
    func close() async throws -> WebSocketCloseFrame? {
        commands.yield(.close)
        return try await session.value
    }

    /// Waits for the server to close the connection, returning its close frame.
    func closed() async throws -> WebSocketCloseFrame? {
        try await session.value
    }

    /// Every text frame received so far, as sent.
    var received: [String] {
        inbox.texts.withLock { $0 }
    }

    /// Every text frame received so far, decoded.
    var frames: [[String: Any]] {
        inbox.frames.withLock { $0 }
    }

    /// The received frames of `type`.
    func frames(ofType type: String) -> [[String: Any]] {
        frames.filter { $0["type"] as? String == type }
    }

    /// Waits until at least `count` frames of `type` arrived.
    @discardableResult
    func waitFor(_ count: Int = 1, _ type: String, timeout: Duration = .seconds(15)) async throws -> [[String: Any]] {
        try await eventually("\(count) '\(type)' frames; got \(inbox.texts.withLock { $0 })", timeout: timeout) {
            frames(ofType: type).count >= count
        }
        return frames(ofType: type)
    }
}
