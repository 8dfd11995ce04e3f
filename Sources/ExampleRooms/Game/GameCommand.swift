/// A game client's frame: `{"type": "join"}`, `{"type": "move", "cell"}` or `{"type": "new-game"}`.
package struct GameCommand: Decodable {
    let type: String
    let cell: Int?
}
