/// `{"type": "op", "id": "client id", "base": V, "ops": [...]}`: an edit a client made on the
/// document at version `base`.
struct OperationFrame: Decodable {
    let id: String
    let base: Int64
    let ops: TextOperation
}
