/// A configured kind of room: a name clients use in URLs, bound to a room class and its options.
public struct RoomKind: Sendable {
    /// The kind's name (`chat`, `ai`, ...).
    public let name: String
    /// The class that runs rooms of this kind.
    public let roomClass: RoomClass
    let makeRoom: @Sendable () -> any Room

    /// Binds `name` to `roomClass` with `options`.
    ///
    /// - Throws: ``ConfigurationError`` for a malformed name or options the class rejects.
    public init(name: String, roomClass: RoomClass, options: [String: JSONValue] = [:]) throws {
        guard RoomAddress.isValidKind(name) else {
            throw ConfigurationError(
                "kinds.\(name): a kind name is 1 to \(RoomAddress.maxKindLength) characters of a-z, 0-9, '-' and '_'")
        }
        self.name = name
        self.roomClass = roomClass
        self.makeRoom = try roomClass.factory(options: options, kind: name)
    }
}
