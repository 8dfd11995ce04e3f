import Foundation
import Synchronization

/// Ends a test process whose test has run far beyond its budget, naming it and every test still
/// running, where a hung test would otherwise hold the run until CI's own timeout, which says
/// nothing of what hung.
///
/// It runs on a thread of its own, not on Swift's cooperative pool: a test that blocks the pool's
/// threads (two on a 2-core machine) stops every task, time limits included, but not this.
final class Watchdog: Sendable {
    static let shared = Watchdog()

    private struct Running {
        var name: String
        var started: ContinuousClock.Instant
        var budget: Duration
    }

    private struct State {
        var running: [UInt64: Running] = [:]
        var next: UInt64 = 0
        var watching = false
    }

    private let state = Mutex(State())
    private let checkEvery: TimeInterval = 1

    /// Notes `name` as running with `budget`; returns the token that ends it.
    func begin(_ name: String, budget: Duration) -> UInt64 {
        let (token, startThread) = state.withLock { state -> (UInt64, Bool) in
            state.next += 1
            state.running[state.next] = Running(name: name, started: .now, budget: budget)
            defer { state.watching = true }
            return (state.next, !state.watching)
        }
        if startThread {
            Thread.detachNewThread { [self] in
                while true {
                    Thread.sleep(forTimeInterval: checkEvery)
                    check()
                }
            }
        }
        return token
    }

    func end(_ token: UInt64) {
        state.withLock { _ = $0.running.removeValue(forKey: token) }
    }

    private func check() {
        let now = ContinuousClock.now
        let running = state.withLock { Array($0.running.values) }.sorted { $0.started < $1.started }
        guard let overdue = running.first(where: { now - $0.started > $0.budget }) else { return }
        var report = "watchdog: the test \"\(overdue.name)\" has run \(minutes(now - overdue.started)), "
        report += "beyond its budget of \(minutes(overdue.budget)): it is taken as hung, and the test process ends.\n"
        report += "Tests still running:\n"
        // A test in a suite that is watched, and watched again with a budget of its own, is here
        // once for each.
        var listed = Set<String>()
        for test in running where listed.insert(test.name).inserted {
            report += "  \(minutes(now - test.started))  \(test.name)\n"
        }
        FileHandle.standardError.write(Data(report.utf8))
        fflush(nil)
        exit(EXIT_FAILURE)
    }

    private func minutes(_ duration: Duration) -> String {
        let seconds = duration.components.seconds
        return "\(seconds / 60) min \(seconds % 60) s"
    }
}
