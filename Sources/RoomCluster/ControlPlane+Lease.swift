import Synchronization

extension ControlPlane {
    /// Renews the lease every third of it until the task is cancelled, or until the lease is lost.
    ///
    /// A renewal that fails (PostgreSQL down, slow or out of reach) is retried until the node's own
    /// deadline (``NodeLease/validUntil``); one that does not answer is not waited for past it. If
    /// the deadline passes first, or the database says the lease lapsed, `lost` is called once, and
    /// before the database could let another node take a room: stop serving every room then.
    ///
    /// `connections`, if given, is read at each renewal and recorded for `GET /cluster`.
    public func keepLease(
        connections: (@Sendable () -> Int)? = nil, lost: @escaping @Sendable (ClusterError) async -> Void
    ) async {
        var retrying = false
        while !Task.isCancelled {
            // Renew once a third of the lease has passed since the last renewal (at once if more
            // has), or soon after a failed attempt.
            if retrying {
                try? await Task.sleep(for: min(lease.duration / 10, .seconds(1)))
            } else if let deadline = lease.validUntil {
                try? await Task.sleep(until: deadline - (lease.duration - lease.margin) * 2 / 3)
            }
            guard !Task.isCancelled else { return }
            guard let deadline = lease.validUntil, ContinuousClock.now < deadline else {
                // Ended by leave() while this was cancelled: not a loss.
                guard !Task.isCancelled else { return }
                await lost(ClusterError(.leaseLost, "node '\(node.id)' could not renew its lease before its deadline"))
                return
            }
            switch await renewal(before: deadline, connections: connections?()) {
            case .renewed:
                retrying = false
            case .failed(let error) where error.kind == .leaseLost:
                guard !Task.isCancelled else { return }
                await lost(error)
                return
            case .failed:
                // Try again soon: the lease holds until the deadline.
                retrying = true
            case .timedOut:
                guard !Task.isCancelled else { return }
                lease.end()
                await lost(ClusterError(.leaseLost, "node '\(node.id)': PostgreSQL did not answer its renewal before the lease's deadline"))
                return
            }
        }
    }

    private enum Renewal: Sendable {
        case renewed
        case failed(ClusterError)
        case timedOut
    }

    /// One renewal, given up at `deadline` (a query to a database that stopped answering may not
    /// end for minutes; it is left to finish on its own, and cannot revive an ended lease).
    private func renewal(before deadline: ContinuousClock.Instant, connections: Int?) async -> Renewal {
        let outcome = Mutex<CheckedContinuation<Renewal, Never>?>(nil)
        return await withCheckedContinuation { continuation in
            outcome.withLock { $0 = continuation }
            let finish: @Sendable (Renewal) -> Void = { result in
                outcome.withLock { pending in
                    pending?.resume(returning: result)
                    pending = nil
                }
            }
            let timer = Task {
                do {
                    try await Task.sleep(until: deadline)
                    finish(.timedOut)
                } catch {}
            }
            Task {
                do throws(ClusterError) {
                    try await self.renew(connections: connections)
                    finish(.renewed)
                } catch {
                    finish(.failed(error))
                }
                timer.cancel()
            }
        }
    }
}
