/// One figure over repeated runs: the median, and the lowest and highest (the spread).
public struct RunSpread: Encodable, Sendable, Equatable {
    public let median: Double
    public let min: Double
    public let max: Double

    /// The spread of `values` (at least one).
    public init(_ values: [Double]) {
        precondition(!values.isEmpty, "a spread of no values")
        let sorted = values.sorted()
        let middle = sorted.count / 2
        median = sorted.count.isMultiple(of: 2) ? (sorted[middle - 1] + sorted[middle]) / 2 : sorted[middle]
        min = sorted[0]
        max = sorted[sorted.count - 1]
    }

    /// How far apart the runs were: (max - min) / median.
    public var relativeSpread: Double { median == 0 ? 0 : (max - min) / median }
}
