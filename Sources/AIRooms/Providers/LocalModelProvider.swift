import Foundation

/// The embedded provider: no network, no key, so that `rooms serve` works out of the box.
///
/// It is **not a language model**. Every answer has the same form: it says it is the local
/// provider, repeats the latest prompt, and says how many messages of context it was given:
///
///     I am the local model provider, not a language model. You said: "PROMPT". I was given
///     N messages of context.
///
/// The answer streams one word at a time (each word with its leading space is a delta) at
/// `tokensPerSecond` (0: as fast as possible), cut after `maxTokens` words. It is what the
/// benchmarks and the tests of streaming use.
///
/// With `stampTokens` (for `rooms bench ai`), every delta is instead `"MICROS:t "`: the
/// monotonic clock (CLOCK_MONOTONIC, shared by the processes of one machine) in microseconds when
/// the token was produced, so that a client on the same machine can measure each token's latency
/// from provider to client. Such answers have `maxTokens` tokens.
public struct LocalModelProvider: ModelProvider, Equatable {
    public var tokensPerSecond: Double
    public var maxTokens: Int
    public var stampTokens: Bool

    public init(tokensPerSecond: Double = 20, maxTokens: Int = 256, stampTokens: Bool = false) {
        self.tokensPerSecond = tokensPerSecond
        self.maxTokens = maxTokens
        self.stampTokens = stampTokens
    }

    /// The deltas the provider answers `request` with.
    public func tokens(for request: ModelRequest) -> [String] {
        let prompt = request.messages.last { $0.role == .user }?.content ?? ""
        let context = request.messages.count { $0.role != .system }
        let answer =
            "I am the local model provider, not a language model. You said: \"\(prompt)\". "
            + "I was given \(context) message\(context == 1 ? "" : "s") of context."
        var tokens: [String] = []
        for word in answer.split(separator: " ", omittingEmptySubsequences: false) {
            tokens.append(tokens.isEmpty ? String(word) : " " + word)
            if tokens.count == maxTokens { break }
        }
        return tokens
    }

    public func stream(_ request: ModelRequest) -> AsyncThrowingStream<String, any Error> {
        let stamped = stampTokens
        let tokens = stamped ? Array(repeating: "", count: maxTokens) : tokens(for: request)
        let pause: Duration? = tokensPerSecond > 0 ? .nanoseconds(Int64(1_000_000_000 / tokensPerSecond)) : nil
        return AsyncThrowingStream { continuation in
            let task = Task {
                for token in tokens {
                    if let pause {
                        do { try await Task.sleep(for: pause) } catch { break }
                    }
                    guard !Task.isCancelled else { break }
                    continuation.yield(stamped ? "\(Self.monotonicMicroseconds()):t " : token)
                }
                continuation.finish()
            }
            continuation.onTermination = { _ in task.cancel() }
        }
    }

    /// CLOCK_MONOTONIC in microseconds.
    static func monotonicMicroseconds() -> UInt64 {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return UInt64(time.tv_sec) * 1_000_000 + UInt64(time.tv_nsec) / 1_000
    }
}
