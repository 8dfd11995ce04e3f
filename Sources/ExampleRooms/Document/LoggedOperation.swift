/// An operation as the room committed it: transformed to apply at `version - 1`, stored as
/// `version`.
struct LoggedOperation {
    let version: Int64
    let id: String
    let user: String
    let operation: TextOperation
}
