public import RoomRuntime

/// The state of a tic-tac-toe game room: kept in memory, rebuilt from a snapshot plus events.
public struct GameState: Codable, Sendable, Equatable {
    /// The nine cells, row by row; nil for an empty one.
    public private(set) var board: [Mark?] = Array(repeating: nil, count: 9)
    /// Who holds each seat.
    public private(set) var players: [Mark: String] = [:]
    /// Whose turn it is.
    public private(set) var turn: Mark = .x
    /// Where the game stands.
    public private(set) var status: GameStatus = .waiting
    /// Who won (also by forfeit).
    public private(set) var winner: Mark?
    /// Games played in this room, the current one included.
    public private(set) var game = 1
    /// Moves made in the current game.
    public private(set) var moves = 0

    public init() {}

    /// The seat `user` holds, if any.
    public func mark(of user: String) -> Mark? {
        players.first { $0.value == user }?.key
    }

    /// Whether the game is over.
    public var isOver: Bool { status == .won || status == .draw || status == .forfeit }

    // MARK: - Validation (before anything is stored)

    /// The event for `user` asking to join.
    ///
    /// - Returns: nil when `user` already holds a seat.
    /// - Throws: ``RoomError`` `game_full` when both seats are taken.
    func join(_ user: String) throws(RoomError) -> GameEvent? {
        if mark(of: user) != nil { return nil }
        guard let free = [Mark.x, .o].first(where: { players[$0] == nil }) else {
            throw RoomError(.conflict, .gameFull, "both seats are taken")
        }
        return .join(user: user, mark: free)
    }

    /// The event for `user` playing `cell`, if the move is legal.
    ///
    /// - Throws: ``RoomError`` `not_a_player`, `game_not_started`, `game_over`, `not_your_turn`,
    ///   `invalid_move` (not a cell from 0 to 8) or `cell_taken`.
    func move(by user: String, cell: Int?) throws(RoomError) -> GameEvent {
        guard let mark = mark(of: user) else {
            throw RoomError(.conflict, .notAPlayer, "join the game before moving")
        }
        guard status != .waiting else { throw RoomError(.conflict, .gameNotStarted, "waiting for a second player") }
        guard !isOver else { throw RoomError(.conflict, .gameOver, "the game is over; send new-game to play again") }
        guard mark == turn else { throw RoomError(.conflict, .notYourTurn, "it is \(turn.rawValue)'s turn") }
        guard let cell, board.indices.contains(cell) else {
            throw RoomError.badRequest(.invalidMove, "'cell' must be an integer from 0 to 8")
        }
        guard board[cell] == nil else { throw RoomError(.conflict, .cellTaken, "cell \(cell) is taken") }
        return .move(mark: mark, cell: cell)
    }

    /// The event for `user` asking for a new game.
    ///
    /// - Throws: ``RoomError`` `not_a_player` or `game_in_progress`.
    func newGame(by user: String) throws(RoomError) -> GameEvent {
        guard mark(of: user) != nil else { throw RoomError(.conflict, .notAPlayer, "only players start a new game") }
        guard isOver else { throw RoomError(.conflict, .gameInProgress, "finish this game first") }
        return .newGame
    }

    // MARK: - Applying events (never fails: events were validated before they were stored)

    /// The state after `event`.
    mutating func apply(_ event: GameEvent) {
        switch event {
        case .join(let user, let mark):
            players[mark] = user
            if players.count == 2, status == .waiting { status = .playing }
        case .move(let mark, let cell):
            board[cell] = mark
            moves += 1
            if Self.lines.contains(where: { $0.allSatisfy { board[$0] == mark } }) {
                status = .won
                winner = mark
            } else if moves == board.count {
                status = .draw
            } else {
                turn = mark.opponent
            }
        case .forfeit(let mark):
            status = .forfeit
            winner = mark.opponent
        case .newGame:
            board = Array(repeating: nil, count: 9)
            turn = .x
            status = players.count == 2 ? .playing : .waiting
            winner = nil
            game += 1
            moves = 0
        }
    }

    private static let lines = [
        [0, 1, 2], [3, 4, 5], [6, 7, 8], [0, 3, 6], [1, 4, 7], [2, 5, 8], [0, 4, 8], [2, 4, 6],
    ]
}

extension RoomError.Code {
    /// Both seats of a game are taken.
    public static let gameFull: Self = "game_full"
    /// Only a player may do this.
    public static let notAPlayer: Self = "not_a_player"
    /// The game waits for a second player.
    public static let gameNotStarted: Self = "game_not_started"
    /// The game is over.
    public static let gameOver: Self = "game_over"
    /// It is the other player's turn.
    public static let notYourTurn: Self = "not_your_turn"
    /// A move names no cell of the board.
    public static let invalidMove: Self = "invalid_move"
    /// A move names a cell already played.
    public static let cellTaken: Self = "cell_taken"
    /// A new game was asked for before this one ended.
    public static let gameInProgress: Self = "game_in_progress"
}
