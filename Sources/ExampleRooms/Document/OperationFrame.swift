/// `{"type": "op", "id": "client id", "base": V, "ops": [...]}`: an edit a client made on the
/// document at version `base`.
package struct OperationFrame: Decodable {
    package let id: String
    package let base: Int64
    package let ops: TextOperation
}
