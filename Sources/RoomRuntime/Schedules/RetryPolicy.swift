/// How a schedule whose handler throws is retried: after `firstRetryAfter`, then after twice that,
/// doubling, at most `maxRetries` times; then a one-shot schedule is dropped and a repeating one
/// waits for its next interval.
public struct RetryPolicy: Sendable, Equatable {
    /// The delay before the first retry (default 2 s).
    public var firstRetryAfter: Duration
    /// The most retries after the first attempt (default 6); 0 never retries.
    public var maxRetries: Int

    public init(firstRetryAfter: Duration = .seconds(2), maxRetries: Int = 6) {
        self.firstRetryAfter = firstRetryAfter
        self.maxRetries = maxRetries
    }

    /// 2 s, doubling, at most 6 retries.
    public static let `default` = RetryPolicy()

    /// Never retry.
    public static let never = RetryPolicy(maxRetries: 0)

    /// The delay before retry number `retry` (1-based): `firstRetryAfter × 2^(retry − 1)`,
    /// capped at a day.
    func delay(beforeRetry retry: Int) -> Int64 {
        let first = max(1, firstRetryAfter.milliseconds)
        let doublings = min(max(retry - 1, 0), 40)
        return min(first << Int64(doublings), 86_400_000)
    }
}
