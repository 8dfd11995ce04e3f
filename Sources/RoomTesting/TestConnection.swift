import NIOCore
public import Foundation
@_spi(Node) public import RoomRuntime

/// A client connected to a room of a ``TestRuntime``, over a ``RecordingTransport``: what it sends
/// reaches the room as a WebSocket message would, and what the room sends it is recorded.
///
/// ```swift
/// let ann = try runtime.connect("lobby", user: "ann")
/// await ann.send(#"{"type": "send", "text": "hi"}"#)
/// let acks = try await ann.waitFor(1, ofType: "ack")
/// ```
public final class TestConnection: Sendable {
    /// The user the client connected as.
    public let user: String
    /// What the room sent it.
    public let transport: RecordingTransport
    private let handle: ConnectionHandle

    init(user: String, transport: RecordingTransport, handle: ConnectionHandle) {
        self.user = user
        self.transport = transport
        self.handle = handle
    }

    /// Sends a text message, as a WebSocket text frame would. Returns once the room can take more
    /// (the runtime's backpressure).
    public func send(_ text: String) async {
        await handle.receive(.text(text))
    }

    /// Sends `value` encoded as JSON.
    public func send(json value: some Encodable) async throws {
        await send(String(decoding: try JSONEncoder().encode(value), as: UTF8.self))
    }

    /// Sends a binary message.
    public func send(binary bytes: [UInt8]) async {
        await handle.receive(.binary(ByteBuffer(bytes: bytes)))
    }

    /// Closes the connection from the client's side.
    public func disconnect() {
        handle.disconnect()
    }

    /// Every frame received, as text.
    public var frames: [String] { transport.frames }

    /// The received frames of `type`, decoded.
    public func frames(ofType type: String) -> [[String: Any]] {
        transport.objects(ofType: type)
    }

    /// The close code, once the room or the node closed the connection.
    public var closeCode: CloseCode? { transport.closeCode }

    /// Waits until at least `count` frames of `type` arrived; returns them.
    @discardableResult
    public func waitFor(_ count: Int = 1, ofType type: String, timeout: Duration = .seconds(10)) async throws
        -> [[String: Any]]
    {
        try await transport.waitFor(count, ofType: type, timeout: timeout)
    }
}
