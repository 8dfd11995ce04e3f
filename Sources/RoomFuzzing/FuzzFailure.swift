/// An input that broke an invariant of a fuzz target.
public struct FuzzFailure: Error, CustomStringConvertible {
    /// Which invariant, and what the parser did instead.
    public let description: String

    init(_ description: String) {
        self.description = description
    }

    /// Fails with `description` unless `condition` holds.
    static func check(_ condition: Bool, _ description: @autoclosure () -> String) throws(FuzzFailure) {
        if !condition { throw FuzzFailure(description()) }
    }
}
