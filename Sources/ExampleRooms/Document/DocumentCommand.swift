/// The `type` every frame a doc room takes carries (`op` or `cursor`).
struct DocumentCommand: Decodable {
    let type: String
}
