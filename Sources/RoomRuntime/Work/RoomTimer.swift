/// A timer set with ``RoomContext/setTimer(_:after:)``: the task that sleeps, and a number that
/// tells it apart from a later timer of the same name.
struct RoomTimer {
    let number: UInt64
    let task: Task<Void, Never>
}
