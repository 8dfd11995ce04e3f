/// A configured kind of room: a name clients use in URLs, bound to a room class and its options.
public struct RoomKind: Sendable {
    /// The kind's name (`chat`, `ai`, ...).
    public let name: String
    /// The class that runs rooms of this kind.
    public let roomClass: RoomClass
    /// How long a room may go untouched before the runtime deletes it; nil (the default) keeps
    /// rooms forever.
    public let ttl: Duration?
    let makeRoom: @Sendable () -> any Room

    /// Binds `name` to `roomClass` with `options`.
    ///
    /// - Throws: ``ConfigurationError`` for a malformed name or options the class rejects.
    public init(name: String, roomClass: RoomClass, options: [String: JSONValue] = [:], ttl: Duration? = nil) throws {
        guard RoomAddress.isValidKind(name) else {
            throw ConfigurationError(
                "kinds.\(name): a kind name is 1 to \(RoomAddress.maxKindLength) characters of a-z, 0-9, '-' and '_'")
        }
        self.name = name
        self.roomClass = roomClass
        if let ttl, ttl <= .zero {
            throw ConfigurationError("kinds.\(name).ttlSeconds: must be positive")
        }
        self.ttl = ttl
        self.makeRoom = try roomClass.factory(options: options, kind: name)
    }
}
