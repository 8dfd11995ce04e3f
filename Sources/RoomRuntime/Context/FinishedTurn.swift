/// A turn that ran, waiting in its group for the commit that releases its output.
struct FinishedTurn {
    /// Who the turn answers.
    enum Origin {
        /// The runtime itself (start, hibernate, a room's schedule).
        case runtime
        /// The runtime's upkeep (a periodic snapshot): it does not count as use of the room, so it
        /// neither keeps an idle room in memory nor moves it in the LRU order.
        case maintenance
        /// A client's connect; on failure the connection is refused.
        case connect(RoomConnection)
        /// A client's message (or close).
        case connection(RoomConnection)
        /// An HTTP request and, when the hook succeeded, its response.
        case request(ResponseHandler, RoomResponse?)
    }

    var origin: Origin
    /// What the turn sent; empty when it failed.
    var output: [Delivery]
    /// Why the turn failed, if it did.
    var failure: RoomError?
    /// The id of the client frame the turn handled, when the room named it.
    var frameID: String?

    /// Whether the turn counts as use of the room.
    var usesRoom: Bool {
        if case .maintenance = origin { return false }
        return true
    }

    /// Releases the turn's output, or reports `failure` (or `override`, when the whole group
    /// failed to commit) to whoever the turn answers.
    func complete(failingWith override: RoomError? = nil, in slot: RoomSlot) {
        if let failure = (override ?? failure)?.answering(frameID) {
            switch origin {
            case .runtime, .maintenance:
                break
            case .connect(let connection):
                slot.removeConnection(connection)
                connection.transport.send(ErrorFrame.frame(for: failure))
                connection.transport.close(
                    code: failure.category == .internal || failure.category == .unavailable
                        ? .internalError : .policyViolation,
                    reason: failure.code.rawValue)
            case .connection(let connection):
                connection.transport.send(ErrorFrame.frame(for: failure))
            case .request(let reply, _):
                reply.fail(failure)
            }
            return
        }
        for delivery in output { delivery.perform() }
        if case .request(let reply, let response) = origin {
            reply.succeed(response ?? RoomResponse(status: 204))
        }
    }
}
