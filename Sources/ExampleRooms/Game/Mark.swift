/// A player's mark on the board.
public enum Mark: String, Codable, Sendable {
    case x = "X"
    case o = "O"

    /// The other player's mark.
    var opponent: Mark { self == .x ? .o : .x }
}
