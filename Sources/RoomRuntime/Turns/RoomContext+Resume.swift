extension RoomContext {
    /// What a resuming connection (`?after=SEQ&epoch=E`) is sent after its welcome: the room's
    /// ``Room/replay(after:context:)``, or nil when there is nothing to resume from (no `after`),
    /// the epoch is another (the room was deleted and created again), `after` is beyond the
    /// room's sequence, or the room cannot replay that much.
    func replay(for connection: RoomConnection) async throws -> [OutboundFrame]? {
        guard let point = ResumePoint(connection.parameters) else { return nil }
        if let epoch = point.epoch, epoch != storage.epoch { return nil }
        guard point.after <= storage.sequence else { return nil }
        return try await room.replay(after: point.after, context: self)
    }
}

/// Where a client resumes from: the query parameters `after` (the last `seq` it saw) and `epoch`
/// (the room's epoch it saw them in), both optional.
@_spi(Node)
public struct ResumePoint: Sendable, Equatable {
    /// The longest epoch accepted.
    public static let maxEpochLength = 64

    public let after: Int64
    public let epoch: String?

    /// The resume point in `parameters`; nil when there is no `after`, or when either is
    /// malformed (the server refuses those before the upgrade: see ``validate(_:)``).
    public init?(_ parameters: [String: String]) {
        guard let text = parameters["after"], let after = Self.sequence(text) else { return nil }
        if let epoch = parameters["epoch"], !Self.isEpoch(epoch) { return nil }
        self.after = after
        self.epoch = parameters["epoch"]
    }

    /// Checks `after` and `epoch` in `parameters`.
    ///
    /// - Throws: ``RoomError`` `invalid_query`.
    public static func validate(_ parameters: [String: String]) throws(RoomError) {
        if let text = parameters["after"], sequence(text) == nil {
            throw .badRequest(.invalidQuery, "'after' must be a sequence number: an integer from 0 to \(Int64.max)")
        }
        if let epoch = parameters["epoch"], !isEpoch(epoch) {
            throw .badRequest(.invalidQuery, "'epoch' must be 1 to \(maxEpochLength) letters and digits, as a welcome gave it")
        }
    }

    private static func sequence(_ text: String) -> Int64? {
        guard !text.isEmpty, text.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }) else {
            return nil
        }
        return Int64(text)
    }

    private static func isEpoch(_ text: String) -> Bool {
        !text.isEmpty && text.utf8.count <= maxEpochLength
            && text.unicodeScalars.allSatisfy { $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0)) }
    }
}
