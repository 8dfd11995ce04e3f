/// A user online in the room.
public struct Present: Sendable, Hashable {
    /// The user's name.
    public var user: String
    /// How many connections the user has open (as of the `welcome` or the last `sync`).
    public var connections: Int

    /// A user with `connections` open connections.
    public init(user: String, connections: Int) {
        self.user = user
        self.connections = connections
    }

    init?(_ value: JSONValue) {
        guard let user = value["user"]?.stringValue else { return nil }
        self.init(user: user, connections: value["connections"]?.intValue ?? 1)
    }
}
