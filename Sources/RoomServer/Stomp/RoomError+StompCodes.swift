import RoomRuntime

extension RoomError.Code {
    // Codes only STOMP's `ERROR` frames carry, in their `message` header (see the error-code table
    // of docs/PROTOCOL.md).

    /// The bytes are not a STOMP frame: no command line, a header line without `:`, an undefined
    /// escape, a body without its NUL, a `content-length` the body does not match, too many
    /// headers.
    static let invalidFrame: Self = "invalid_frame"
    /// A command STOMP 1.2 does not have (or a server frame a client sent).
    static let unknownCommand: Self = "unknown_command"
    /// A header the frame needs is absent (`destination`, `id`, `transaction`, ...).
    static let missingHeader: Self = "missing_header"
    /// A header's value is not one the server takes (`heart-beat`, `ack`, `content-length`,
    /// `content-type`, `x-after`, `x-epoch`, `login`).
    static let invalidHeader: Self = "invalid_header"
    /// A destination that is not `/topic/rooms/{kind}/{id}`.
    static let invalidDestination: Self = "invalid_destination"
    /// `CONNECT`'s `accept-version` names no version the server speaks.
    static let unsupportedVersion: Self = "unsupported_version"
    /// A frame out of turn: anything before `CONNECT`, or a second `CONNECT`.
    static let unexpectedFrame: Self = "unexpected_frame"
    /// `UNSUBSCRIBE` (or `ACK`) names no subscription of the connection, or `SUBSCRIBE` reuses an
    /// id.
    static let invalidSubscription: Self = "invalid_subscription"
    /// `COMMIT`, `ABORT` or a `SEND` names a transaction that was not begun, or `BEGIN` one that
    /// was.
    static let invalidTransaction: Self = "invalid_transaction"
}
