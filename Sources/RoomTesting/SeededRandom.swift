/// A random number generator that gives the same numbers for the same seed (SplitMix64), so that
/// a randomized test that fails can be run again exactly: print the seed with the failure.
///
/// ```swift
/// var random = SeededRandom(seed: 42)
/// let length = Int.random(in: 0...30, using: &random)
/// ```
public struct SeededRandom: RandomNumberGenerator, Sendable {
    private var state: UInt64

    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE5_E4B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
