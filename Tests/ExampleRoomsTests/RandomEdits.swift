import ExampleRooms

/// Random texts and random edits of them, for the OT tests: letters, accented letters, emoji
/// (surrogate pairs) and a skin-tone sequence; edits that never cut a surrogate pair.
enum RandomEdits {
    static let pieces = ["a", "b", "c", "d", " ", "é", "ß", "😀", "👍🏽", "中", "\n"]

    static func text(length: Int, using random: inout some RandomNumberGenerator) -> String {
        (0..<length).map { _ in pieces.randomElement(using: &random)! }.joined()
    }

    /// A random operation on `document`: retains, deletes and inserts at character boundaries,
    /// replacements (a delete and an insert at one place) included.
    static func operation(on document: DocumentText, using random: inout some RandomNumberGenerator)
        -> TextOperation
    {
        let units = document.units
        /// The position after the character starting at `position` (a pair is two units).
        func step(_ position: Int) -> Int {
            UTF16.isLeadSurrogate(units[position]) && position + 1 < units.count ? position + 2 : position + 1
        }
        var operation = TextOperation()
        var position = 0
        while position < units.count {
            var end = step(position)
            while end < units.count, Bool.random(using: &random) { end = step(end) }
            switch Int.random(in: 0..<6, using: &random) {
            case 0: operation.delete(end - position)
            case 1:
                operation.delete(end - position)
                operation.insert(text(length: Int.random(in: 1...3, using: &random), using: &random))
            case 2:
                operation.insert(text(length: Int.random(in: 1...3, using: &random), using: &random))
                operation.retain(end - position)
            default: operation.retain(end - position)
            }
            position = end
        }
        if Int.random(in: 0..<3, using: &random) == 0 {
            operation.insert(text(length: Int.random(in: 1...4, using: &random), using: &random))
        }
        return operation
    }
}
