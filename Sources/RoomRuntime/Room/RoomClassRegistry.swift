/// The room classes a node can run, by configuration name.
///
/// ```swift
/// var classes = RoomClassRegistry()
/// classes.register(ChatRoom.self)
/// classes.register(CounterRoom.self)
/// ```
public struct RoomClassRegistry: Sendable {
    private var classes: [String: RoomClass] = [:]

    public init() {}

    /// Adds `type` under its ``Room/className``, replacing a class of the same name.
    public mutating func register<R: Room>(_ type: R.Type) {
        classes[R.className] = RoomClass(type)
    }

    /// The class named `name`, if registered.
    public func roomClass(named name: String) -> RoomClass? {
        classes[name]
    }

    /// Every registered class name, sorted.
    public var names: [String] { classes.keys.sorted() }
}
