/// Polls `condition` until it holds, failing with ``TimedOut`` after `timeout`. The timeout only
/// bounds a hang: a test that uses it asserts nothing about how fast the machine is.
///
/// ```swift
/// try await eventually("the room hibernated") { try !runtime.isActive("lobby") }
/// ```
public func eventually(
    _ what: @autoclosure () -> String, timeout: Duration = .seconds(15), _ condition: () async throws -> Bool
) async throws {
    let deadline = ContinuousClock.now + timeout
    while try await !condition() {
        guard ContinuousClock.now < deadline else { throw TimedOut(description: "timed out waiting for \(what())") }
        try await Task.sleep(for: .milliseconds(5))
    }
}

/// What ``eventually(_:timeout:_:)`` throws when its condition never held.
public struct TimedOut: Error, CustomStringConvertible {
    public let description: String

    public init(description: String) {
        self.description = description
    }
}
