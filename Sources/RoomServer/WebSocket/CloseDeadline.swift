import Synchronization

/// The timer that cuts a WebSocket whose server-initiated close does not complete in time.
///
/// It runs in two phases. When the close is decided (``closeStarted(timeout:)``) the close frame
/// may still wait behind frames the client has not read: the client gets a long timeout to read
/// them. Once the frame is sent (``closeSent(timeout:)``) the client gets the short close
/// handshake timeout to answer it. Whichever timer fires first cuts the connection.
final class CloseDeadline: Sendable {
    private enum Phase {
        case idle
        case started(Task<Void, Never>)
        case sent(Task<Void, Never>)
        case cancelled
    }

    private let phase = Mutex(Phase.idle)
    private let cut: @Sendable () -> Void

    /// - Parameter cut: cuts the connection when a deadline passes.
    init(cut: @escaping @Sendable () -> Void) {
        self.cut = cut
    }

    /// The server decided to close: cut the connection after `timeout` unless the close frame is
    /// sent first (or the timer runs already).
    func closeStarted(timeout: Duration) {
        phase.withLock { phase in
            guard case .idle = phase else { return }
            phase = .started(timer(timeout))
        }
    }

    /// The close frame is sent: cut the connection after `timeout` (replacing the first timer).
    func closeSent(timeout: Duration) {
        phase.withLock { phase in
            switch phase {
            case .idle:
                phase = .sent(timer(timeout))
            case .started(let task):
                task.cancel()
                phase = .sent(timer(timeout))
            case .sent, .cancelled:
                break
            }
        }
    }

    /// Stops the timers (the session ended by itself).
    func cancel() {
        phase.withLock { phase in
            switch phase {
            case .started(let task), .sent(let task): task.cancel()
            case .idle, .cancelled: break
            }
            phase = .cancelled
        }
    }

    private func timer(_ timeout: Duration) -> Task<Void, Never> {
        Task { [cut] in
            guard (try? await Task.sleep(for: timeout)) != nil else { return }
            cut()
        }
    }
}
