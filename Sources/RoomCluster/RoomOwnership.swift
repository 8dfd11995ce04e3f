/// Who owns a room, as the control plane answered.
public enum RoomOwnership: Sendable, Equatable {
    /// This node owns it, at `epoch`: the number every commit to the room's file is checked
    /// against. A takeover by any node raises it.
    case mine(epoch: Int64)
    /// Another live node owns it: send the room's traffic to `address`.
    case elsewhere(node: String, address: String, epoch: Int64)
}
