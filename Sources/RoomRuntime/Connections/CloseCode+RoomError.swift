extension CloseCode {
    /// The close code for a connection that `error` ends: the one place errors meet close codes.
    ///
    /// | error | code |
    /// |---|---|
    /// | `shutting_down` | 1001 (going away) |
    /// | `room_deleted` | 4404 |
    /// | unauthorized errors (`token_expired`, `unauthorized`) | 4401 |
    /// | forbidden errors (`not_a_member`, `forbidden`) | 4403 |
    /// | other unavailable or internal errors (`room_unavailable`, `storage_failed`, ...) | 1011 |
    /// | anything else (the room refused the connection) | 1008 |
    public init(closingFor error: RoomError) {
        switch error.code {
        case .shuttingDown: self = .goingAway
        case .roomDeleted: self = .roomDeleted
        default:
            switch error.category {
            case .unavailable, .internal: self = .internalError
            case .unauthorized: self = .unauthorized
            case .forbidden: self = .forbidden
            case .badRequest, .notFound, .methodNotAllowed, .tooLarge, .conflict, .upgradeRequired:
                self = .policyViolation
            }
        }
    }
}
