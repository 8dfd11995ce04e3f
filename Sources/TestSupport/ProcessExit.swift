public import Foundation

extension Process {
    /// Runs the process and blocks the calling thread until it exits.
    ///
    /// Not `waitUntilExit()`: that spins a run loop of the calling thread, which off the main thread
    /// on Linux can miss the exit and wait for ever (swiftlang/swift#79881, and reports of suites
    /// that hang under load): a test that did so held its thread, one of the cooperative pool's
    /// two on a 2-core machine. The exit is taken from `terminationHandler`, set before the start
    /// so that a quick exit is not missed. Keep it to short programs and to threads outside the
    /// cooperative pool (the async ``runToExit()`` is for tasks).
    ///
    /// - Parameter meanwhile: what to do once it started, before the wait: read its pipes to
    ///   their end, say, so that it never stops on a full one.
    public func runToExitBlocking(meanwhile: () throws -> Void = {}) throws {
        let exited = DispatchSemaphore(value: 0)
        terminationHandler = { _ in exited.signal() }
        try run()
        defer { exited.wait() }
        try meanwhile()
    }

    /// Runs the process and suspends (holding no thread) until it exits. A program writing into
    /// a pipe must have it read meanwhile, or be short: a full pipe stops it.
    public func runToExit() async throws {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            terminationHandler = { _ in continuation.resume() }
            do {
                try run()
            } catch {
                terminationHandler = nil
                continuation.resume(throwing: error)
            }
        }
    }
}
