/// `{"type": "op", "version": V, "id", "user", "ops"}`: a committed operation, transformed to
/// apply to version `V - 1`, to everyone but its sender (and in a resume, to its sender too: the
/// `id` tells it its own).
struct OperationBroadcast: Encodable {
    let type = "op"
    let version: Int64
    let id: String
    let user: String
    let ops: TextOperation

    init(_ logged: LoggedOperation) {
        version = logged.version
        id = logged.id
        user = logged.user
        ops = logged.operation
    }
}
