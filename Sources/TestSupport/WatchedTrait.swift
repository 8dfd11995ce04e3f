public import Testing

/// A suite's tests, each watched by a ``Watchdog``: one that runs longer than `budget` ends the
/// test process with a report naming it and every test still running.
///
/// Every suite carries it (`@Suite("…", .watched)`). Swift Testing's own `.timeLimit` records an
/// issue and cancels the test, but it needs the cooperative pool to do so, and then waits for a
/// test that ignores cancellation for ever.
public struct WatchedTrait: SuiteTrait, TestTrait, TestScoping {
    /// How long one test (or one case of a parameterized test) may take, waiting for its turn at a
    /// shared resource included.
    public var budget: Duration

    public init(budget: Duration) {
        self.budget = budget
    }

    public var isRecursive: Bool { true }

    public func scopeProvider(for test: Test, testCase: Test.Case?) -> Self? {
        // One scope per test case (a test function that takes no arguments has one), none for a
        // suite or for a function as a whole.
        testCase == nil ? nil : self
    }

    public func provideScope(
        for test: Test, testCase: Test.Case?, performing function: @Sendable () async throws -> Void
    ) async throws {
        let token = Watchdog.shared.begin(test.displayName ?? test.name, budget: budget)
        defer { Watchdog.shared.end(token) }
        try await function()
    }
}

extension Trait where Self == WatchedTrait {
    /// Twenty minutes per test: several times what the slowest test takes on a loaded 2-core CI
    /// machine, waits for the one-outside-program-at-a-time gate included.
    public static var watched: Self { WatchedTrait(budget: .seconds(20 * 60)) }

    /// `minutes` per test.
    public static func watched(minutes: Int) -> Self { WatchedTrait(budget: .seconds(minutes * 60)) }
}
