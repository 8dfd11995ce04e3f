import AIRooms
import ChatRooms
import ExampleRooms
import Foundation
@_spi(Node) import RoomRuntime
import RoomServer

/// A configuration file (`ServerConfiguration.parse`): the reader of every section and every
/// built-in room class's options.
///
/// Invariant: a document is accepted or refused with a ``ConfigurationError`` (which names the
/// key); nothing else is thrown, nothing traps.
enum ConfigurationFuzzing {
    /// The classes `rooms serve` registers (Sources/rooms/BuiltInRoomClasses.swift, which the
    /// executable keeps to itself).
    static let classes: RoomClassRegistry = {
        var classes = RoomClassRegistry()
        classes.register(ChatRoom.self)
        classes.register(RelayRoom.self)
        classes.register(CounterRoom.self)
        classes.register(GameRoom.self)
        classes.register(DocumentRoom.self)
        classes.register(AIChatRoom.self)
        classes.register(InboxRoom.self)
        return classes
    }()

    static func run(_ bytes: [UInt8]) throws(FuzzFailure) {
        do {
            _ = try ServerConfiguration.parse(Data(bytes), classes: classes)
        } catch is ConfigurationError {
        } catch {
            throw FuzzFailure("parse threw \(type(of: error)) (\(error)), not a ConfigurationError")
        }
    }
}
