import AIRooms
import ChatRooms
import ExampleRooms
@_spi(Node) import RoomRuntime

/// The room classes `rooms` can run, by the name configuration uses.
enum BuiltInRoomClasses {
    static var registry: RoomClassRegistry {
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
