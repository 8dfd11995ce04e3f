/// Names work started with ``RoomContext/startWork(_:keepsActive:_:)``, to cancel it.
public struct WorkHandle: Sendable, Hashable {
    let id: UInt64
}
