/// `{"type": "state", "seq", "game", "board", "players", "turn", "status", "winner"?, "moves",
/// "turnDeadline"?}`: the whole game, after every change and to each client on connecting.
///
/// `board` is nine strings, `"X"`, `"O"` or `""`, row by row; `players` maps `"X"`/`"O"` to user
/// names; `turnDeadline` (ms since 1970) is when the player to move forfeits.
struct StateFrame: Encodable {
    let type = "state"
    let seq: Int64
    let game: Int
    let board: [String]
    let players: [String: String]
    let turn: String
    let status: GameStatus
    let winner: String?
    let moves: Int
    let turnDeadline: Int64?

    init(_ state: GameState, seq: Int64, turnDeadline: Int64?) {
        self.seq = seq
        game = state.game
        board = state.board.map { $0?.rawValue ?? "" }
        players = Dictionary(uniqueKeysWithValues: state.players.map { ($0.key.rawValue, $0.value) })
        turn = state.turn.rawValue
        status = state.status
        winner = state.winner?.rawValue
        moves = state.moves
        self.turnDeadline = turnDeadline
    }
}
