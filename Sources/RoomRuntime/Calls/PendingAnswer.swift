import Synchronization

/// The answer to a call, set once (by the callee or the timeout, whichever comes first).
final class PendingAnswer: Sendable {
    private let value = Mutex<Result<RoomResponse, RoomError>?>(nil)

    /// The answer, once set.
    var result: Result<RoomResponse, RoomError>? { value.withLock { $0 } }

    /// Whether the answer is in.
    var isSet: Bool { value.withLock { $0 != nil } }

    /// Sets the answer unless one is set; true when this call set it.
    func set(_ result: Result<RoomResponse, RoomError>) -> Bool {
        value.withLock { value in
            guard value == nil else { return false }
            value = result
            return true
        }
    }
}
