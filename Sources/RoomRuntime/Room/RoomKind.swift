/// A configured kind of room: a name clients use in URLs, bound to a room class and its options.
public struct RoomKind: Sendable {
    /// The kind's name (`chat`, `ai`, ...).
    public let name: String
    /// The class that runs rooms of this kind.
    public let roomClass: RoomClass
    /// Who may enter rooms of this kind (the kind option `"access"`, default `open`).
    public let access: RoomAccess
    /// How long a room may go untouched before the runtime deletes it; nil (the default) keeps
    /// rooms forever.
    public let ttl: Duration?
    /// How often rooms of this kind take a snapshot: the kind's `snapshotIntervalSeconds`, or the
    /// class's ``Room/snapshotInterval``. Nil when the class takes no snapshots.
    public let snapshotInterval: Duration?
    /// Whether clients reach rooms of this kind at `/rooms/{kind}/{id}/...` (default true). A kind
    /// the server serves at routes of its own (users' inboxes at `/inbox`) is not: there, its
    /// rooms answer `404 unknown_kind`, as if the kind were not configured.
    public var hasRoomRoutes = true
    let makeRoom: @Sendable () -> any Room

    /// Binds `name` to `roomClass` with `options`. A `snapshotInterval` overrides the class's own.
    ///
    /// - Throws: ``ConfigurationError`` for a malformed name, options the class rejects, a
    ///   snapshot interval for a class that takes no snapshots, or members for an ephemeral class.
    public init(
        name: String, roomClass: RoomClass, options: [String: JSONValue] = [:], ttl: Duration? = nil,
        snapshotInterval: Duration? = nil, access: RoomAccess = .open
    ) throws {
        guard RoomAddress.isValidKind(name) else {
            throw ConfigurationError(
                key: "kinds.\(name)",
                "a kind name is 1 to \(RoomAddress.maxKindLength) characters of a-z, 0-9, '-' and '_'")
        }
        self.name = name
        self.roomClass = roomClass
        if access != .open, roomClass.isEphemeral {
            throw ConfigurationError(
                key: "kinds.\(name).access",
                "class '\(roomClass.name)' is ephemeral: its rooms have no file to keep members in")
        }
        self.access = access
        if let ttl, ttl <= .zero {
            throw ConfigurationError(key: "kinds.\(name).ttlSeconds", "must be positive")
        }
        self.ttl = ttl
        if let snapshotInterval {
            guard roomClass.snapshotInterval != nil else {
                throw ConfigurationError(
                    key: "kinds.\(name).snapshotIntervalSeconds", "class '\(roomClass.name)' takes no snapshots")
            }
            guard snapshotInterval > .zero else {
                throw ConfigurationError(key: "kinds.\(name).snapshotIntervalSeconds", "must be positive")
            }
        }
        self.snapshotInterval = snapshotInterval ?? roomClass.snapshotInterval
        self.makeRoom = try roomClass.factory(options: options, kind: name)
    }
}
