import AIRooms
import ChatRooms
import ExampleRooms
public import RoomRuntime

/// The room classes `rooms` can run, by the name configuration uses: one list, which `rooms serve`,
/// the tests and the configuration fuzz target all read, so that a class added here is served,
/// tested and fuzzed alike.
public enum BuiltInRoomClasses {
    public static var registry: RoomClassRegistry {
        var classes = RoomClassRegistry()
        classes.register(ChatRoom.self)
        classes.register(RelayRoom.self)
        classes.register(CounterRoom.self)
        classes.register(GameRoom.self)
        classes.register(DocumentRoom.self)
        classes.register(AIChatRoom.self)
        classes.register(InboxRoom.self)
        return classes
    }
}
