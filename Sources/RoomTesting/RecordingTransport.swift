public import Foundation
@_spi(Node) public import RoomRuntime
import Synchronization

/// A connection's transport that records what the runtime sends it, for tests without sockets.
///
/// ```swift
/// let transport = RecordingTransport()
/// // ... connect it, send to the room ...
/// let acks = try await transport.waitFor(1, ofType: "ack")
/// ```
public final class RecordingTransport: ConnectionTransport {
    private let state = Mutex<(frames: [String], close: CloseCode?)>(([], nil))

    public init() {}

    public func send(_ frame: OutboundFrame) {
        state.withLock { state in
            if state.close == nil { state.frames.append(frame.text) }
        }
    }

    public func close(code: CloseCode, reason: String) {
        state.withLock { state in
            if state.close == nil { state.close = code }
        }
    }

    /// Every frame received, as text, in order.
    public var frames: [String] { state.withLock { $0.frames } }

    /// The close code, once the connection was closed.
    public var closeCode: CloseCode? { state.withLock { $0.close } }

    /// The frames decoded as JSON objects (frames that are not objects are left out).
    public var objects: [[String: Any]] {
        frames.compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
    }

    /// The decoded frames whose `type` is `type`.
    public func objects(ofType type: String) -> [[String: Any]] {
        objects.filter { $0["type"] as? String == type }
    }

    /// Waits until at least `count` frames of `type` arrived, and returns those frames; fails after
    /// `timeout`.
    @discardableResult
    public func waitFor(_ count: Int, ofType type: String, timeout: Duration = .seconds(10)) async throws
        -> [[String: Any]]
    {
        try await eventually("\(count) '\(type)' frames (have \(frames))", timeout: timeout) {
            objects(ofType: type).count >= count
        }
        return objects(ofType: type)
    }
}
