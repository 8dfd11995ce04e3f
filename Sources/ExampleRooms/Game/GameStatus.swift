/// Where a game stands.
public enum GameStatus: String, Codable, Sendable {
    /// Waiting for a second player.
    case waiting
    /// Both seats are taken and nobody has won yet.
    case playing
    /// A player has three in a row.
    case won
    /// The board is full with no winner.
    case draw
    /// A player let its turn time out.
    case forfeit
}
