/// What a game room's snapshot holds: the state as of event `seq`.
struct GameSnapshot: Codable {
    let state: GameState
    let seq: Int64
}
