extension KeyedDecodingContainer {
    /// The integer option `key`, or `defaultValue` when absent; a value outside `range` is a
    /// decoding error naming the range. For room classes' `Options` types.
    public func decodeOption(_ key: Key, default defaultValue: Int, in range: ClosedRange<Int>) throws -> Int {
        let given = try decodeIfPresent(Int.self, forKey: key) ?? defaultValue
        guard range.contains(given) else {
            throw DecodingError.dataCorruptedError(
                forKey: key, in: self, debugDescription: "must be from \(range.lowerBound) to \(range.upperBound)")
        }
        return given
    }
}
