/// A turn that ran, waiting in its group for the commit that releases its output.
struct FinishedTurn {
    /// Who the turn answers.
    enum Origin {
        /// The room's `onStart`: its writes alone do not create a room that did not exist.
        case start
        /// The runtime on the room's behalf (a schedule, a closed connection, the room's own work).
        case runtime
        /// The runtime's upkeep (a snapshot, the hibernate hook): it does not count as use of the
        /// room, so it neither keeps an idle room in memory nor moves it in the LRU order, and its
        /// writes do not create a room.
        case maintenance
        /// A client's connect; on failure the connection is refused.
        case connect(RoomConnection)
        /// A client's message.
        case message(RoomConnection)
        /// An HTTP request and, when the hook succeeded, its response.
        case request(ResponseHandler, RoomResponse?)

        /// The origin of the first half of a turn cut by a call: the runtime's own, so that errors
        /// of the second half reach the sender once, with the turn's real origin.
        var firstHalf: Origin {
            switch self {
            case .start, .maintenance: self
            case .runtime, .connect, .message, .request: .runtime
            }
        }
    }

    var origin: Origin
    /// What the turn sent; empty when it failed.
    var output: [Delivery]
    /// Why the turn failed, if it did.
    var failure: RoomError?
    /// The id of the client frame the turn handled, when the room named it.
    var frameID: String?
    /// Whether the turn wrote to storage (and kept it).
    var wrote: Bool

    /// Whether the turn counts as use of the room.
    var usesRoom: Bool {
        if case .maintenance = origin { return false }
        return true
    }

    /// Whether the turn creates a room that did not exist: an accepted connection, or a stored
    /// write of anything but the runtime's start and upkeep.
    var createsRoom: Bool {
        guard failure == nil else { return false }
        switch origin {
        case .connect: return true
        case .start, .maintenance: return false
        case .runtime, .message, .request: return wrote
        }
    }

    /// Releases the turn's output, or reports `failure` (or `override`, when the whole group
    /// failed to commit) to whoever the turn answers.
    func complete(failingWith override: RoomError? = nil, in slot: RoomSlot) {
        if let failure = (override ?? failure)?.answering(frameID) {
            switch origin {
            case .start, .runtime, .maintenance:
                break
            case .connect(let connection):
                slot.removeConnection(connection)
                connection.refuse(with: failure)
            case .message(let connection):
                connection.transport.send(ErrorFrame.frame(for: failure))
                connection.finishFrame()
            case .request(let reply, _):
                reply.fail(failure)
            }
            return
        }
        for delivery in output { delivery.perform() }
        switch origin {
        case .request(let reply, let response):
            reply.succeed(response ?? RoomResponse(status: 204))
        case .message(let connection):
            connection.finishFrame()
        case .start, .runtime, .maintenance, .connect:
            break
        }
    }
}
