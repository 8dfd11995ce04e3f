import Foundation
@_spi(Node) import RoomRuntime
import Synchronization

/// A transport that records what the runtime sends, for tests that need no sockets.
final class RecordingTransport: ConnectionTransport {
    private let state = Mutex<(frames: [String], close: CloseCode?)>(([], nil))

    func send(_ frame: OutboundFrame) {
        state.withLock { state in
            if state.close == nil { state.frames.append(frame.text) }
        }
    }

    func close(code: CloseCode, reason: String) {
        state.withLock { state in
            if state.close == nil { state.close = code }
        }
    }

    var frames: [String] { state.withLock { $0.frames } }
    var closeCode: CloseCode? { state.withLock { $0.close } }

    /// The frames decoded as JSON objects.
    var objects: [[String: Any]] {
        frames.compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
    }

    /// The decoded frames whose `type` is `type`.
    func objects(ofType type: String) -> [[String: Any]] {
        objects.filter { $0["type"] as? String == type }
    }

    /// Waits until `count` frames of `type` arrived, or fails after `timeout`.
    @discardableResult
    func waitFor(_ count: Int, ofType type: String, timeout: Duration = .seconds(10)) async throws -> [[String: Any]] {
        try await eventually("\(count) '\(type)' frames (have \(frames))", timeout: timeout) {
            objects(ofType: type).count >= count
        }
        return objects(ofType: type)
    }
}

struct TimedOut: Error, CustomStringConvertible {
    let description: String
}

/// Polls `condition` until it holds, failing after `timeout`. The timeout only bounds a hang:
/// no assertion depends on how fast the machine is.
func eventually(
    _ what: @autoclosure () -> String, timeout: Duration = .seconds(10), _ condition: () throws -> Bool
) async throws {
    let deadline = ContinuousClock.now + timeout
    while try !condition() {
        guard ContinuousClock.now < deadline else { throw TimedOut(description: "timed out waiting for \(what())") }
        try await Task.sleep(for: .milliseconds(5))
    }
}
