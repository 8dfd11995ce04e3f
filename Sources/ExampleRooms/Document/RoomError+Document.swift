public import RoomRuntime

extension RoomError.Code {
    /// An operation that does not span the document at its `base`, or that cuts a surrogate pair.
    public static let invalidOperation: Self = "invalid_operation"
    /// An operation whose `base` is older than the oldest version the room keeps a log from.
    public static let versionGone: Self = "version_gone"
    /// An operation or cursor whose `base` or `version` the room has not reached.
    public static let versionAhead: Self = "version_ahead"
    /// An operation that would make the document larger than the kind's `maxDocumentBytes`.
    public static let documentTooLarge: Self = "document_too_large"
    /// An operation frame larger than the kind's `maxOperationBytes`.
    public static let operationTooLarge: Self = "operation_too_large"
}
