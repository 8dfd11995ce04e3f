import BuiltInRooms
import Foundation
@_spi(Node) import RoomRuntime
import RoomServer

/// A configuration file (`ServerConfiguration.parse`): the reader of every section and every
/// built-in room class's options.
///
/// Invariant: a document is accepted or refused with a ``ConfigurationError`` (which names the
/// key); nothing else is thrown, nothing traps.
enum ConfigurationFuzzing {
    /// The classes `rooms serve` registers.
    static let classes = BuiltInRoomClasses.registry

    static func run(_ bytes: [UInt8]) throws(FuzzFailure) {
        do {
            _ = try ServerConfiguration.parse(Data(bytes), classes: classes)
        } catch is ConfigurationError {
        } catch {
            throw FuzzFailure("parse threw \(type(of: error)) (\(error)), not a ConfigurationError")
        }
    }
}
