/// The payload of the `forfeit` schedule: the move it guards. A move made in time replaces the
/// schedule; a firing whose move was already made does nothing.
struct ForfeitDeadline: Codable {
    let game: Int
    let moves: Int
}
