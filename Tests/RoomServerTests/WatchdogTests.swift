import Foundation
import TestSupport
import Testing

/// The watchdog every suite carries (`.watched`): a test that hangs, even one that blocks a thread
/// of the cooperative pool, ends the test process with a report that names it.
@Suite("The tests' watchdog", .watched)
struct WatchdogTests {
    /// Set only in the test process that the first test starts.
    static let demo = ProcessInfo.processInfo.environment["ROOMS_WATCHDOG_DEMO"] == "1"

    @Test("a test that hangs past its budget ends the test process with status 1, naming it and the tests still running")
    func hungTestEndsTheProcess() async throws {
        let (status, output) = try await RoomsBinary.run(
            CommandLine.arguments[0], ["--testing-library", "swift-testing", "--filter", "WatchdogTests/hangs"],
            environment: ["ROOMS_WATCHDOG_DEMO": "1"], timeout: .seconds(120))
        #expect(status == 1, "\(output)")
        // Ended within a minute of its start (RoomsBinary.run's own timeout, 120 s, is not what
        // ended it), of an hour's sleep.
        #expect(output.contains("watchdog: the test \"hangs on a blocked thread\" has run 0 min "), "\(output)")
        #expect(output.contains("beyond its budget of 0 min 2 s"), "\(output)")
        #expect(output.contains("Tests still running:\n"), "\(output)")
        #expect(!output.contains("passed after"), "\(output)")
    }

    @Test("hangs on a blocked thread", .enabled(if: demo, "run only by the test above, in a process of its own"),
        WatchedTrait(budget: .seconds(2)))
    func hangs() {
        // Blocks one of the cooperative pool's threads, as the hangs the watchdog is for may.
        Thread.sleep(forTimeInterval: 3_600)
    }
}
