/// Something that happened in a game room, as its event log stores it.
///
/// The room's state is a pure function of its events (``GameState/apply(_:)``): a snapshot plus
/// the events after it rebuild the state after hibernation or a crash.
enum GameEvent: Codable, Equatable {
    /// `user` took the seat of `mark`.
    case join(user: String, mark: Mark)
    /// `mark` played `cell` (0 to 8, row by row).
    case move(mark: Mark, cell: Int)
    /// `mark` let its turn time out and lost.
    case forfeit(mark: Mark)
    /// The players start a new game on an empty board, X first.
    case newGame
}
