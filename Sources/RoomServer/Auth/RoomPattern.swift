@_spi(Node) public import RoomRuntime

/// One entry of a token's `rooms` claim: `"kind/id"` (that room), `"kind/*"` (every room of the
/// kind) or `"kind/prefix*"` (the rooms of the kind whose id starts with `prefix`).
public struct RoomPattern: Sendable, Equatable {
    /// The kind.
    public let kind: String
    /// The id, or its prefix when ``isPrefix``.
    public let id: String
    /// Whether ``id`` is a prefix.
    public let isPrefix: Bool

    /// Parses `text`; nil when it is not a pattern.
    public init?(_ text: String) {
        guard let slash = text.firstIndex(of: "/") else { return nil }
        let kind = String(text[..<slash])
        var id = String(text[text.index(after: slash)...])
        guard RoomAddress.isValidKind(kind) else { return nil }
        isPrefix = id.hasSuffix("*")
        if isPrefix { id.removeLast() }
        guard isPrefix || RoomAddress.isValidID(id) else { return nil }
        self.kind = kind
        self.id = id
    }

    /// Whether the pattern covers `address`.
    public func covers(_ address: RoomAddress) -> Bool {
        guard address.kind == kind else { return false }
        return isPrefix ? address.id.hasPrefix(id) : address.id == id
    }
}
