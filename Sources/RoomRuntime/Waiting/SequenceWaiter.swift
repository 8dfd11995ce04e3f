import Synchronization

/// One wait for a room to store something past a sequence number (a long poll, see
/// ``SequenceWatchers``). It ends once, with an ``Outcome``.
@_spi(Node)
public final class SequenceWaiter: Sendable {
    /// How a wait ended.
    public enum Outcome: Sendable, Equatable {
        /// The room committed past `after`.
        case advanced
        /// The time ran out, or the waiting task was cancelled.
        case expired
        /// The room was deleted.
        case deleted
        /// The node is stopping.
        case stopping
    }

    private enum State {
        case pending
        case waiting(CheckedContinuation<Outcome, Never>)
        case done(Outcome)
    }

    /// The room waited on.
    public let address: RoomAddress
    /// The sequence number the waiter has seen.
    public let after: Int64
    private let state = Mutex(State.pending)

    init(address: RoomAddress, after: Int64) {
        self.address = address
        self.after = after
    }

    /// Ends the wait with `outcome` (the first call wins).
    func fire(_ outcome: Outcome) {
        let waiting: CheckedContinuation<Outcome, Never>? = state.withLock { state in
            switch state {
            case .pending:
                state = .done(outcome)
                return nil
            case .waiting(let continuation):
                state = .done(outcome)
                return continuation
            case .done:
                return nil
            }
        }
        waiting?.resume(returning: outcome)
    }

    /// Waits until the room stores past `after`, is deleted or the node stops, or `timeout`
    /// passes or the task is cancelled (``Outcome/expired``). A waiter waits once.
    public func wait(timeout: Duration) async -> Outcome {
        let timer = Task { [self] in
            do { try await Task.sleep(for: timeout) } catch { return }
            fire(.expired)
        }
        defer { timer.cancel() }
        return await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Outcome, Never>) in
                let done: Outcome? = state.withLock { state in
                    switch state {
                    case .pending:
                        state = .waiting(continuation)
                        return nil
                    case .done(let advanced):
                        return advanced
                    case .waiting:
                        preconditionFailure("a sequence waiter waits once")
                    }
                }
                if let done { continuation.resume(returning: done) }
            }
        } onCancel: {
            fire(.expired)
        }
    }
}
