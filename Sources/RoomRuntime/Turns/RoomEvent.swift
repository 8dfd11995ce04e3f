/// Something for a room to handle in a turn, queued in its mailbox.
enum RoomEvent: Sendable {
    /// A client connected.
    case connect(RoomConnection)
    /// A client sent a message.
    case message(RoomConnection, ClientMessage)
    /// A client's connection closed.
    case disconnect(RoomConnection)
    /// An HTTP request or a call from another room; the handler receives the response once the
    /// turn is committed.
    case request(RoomRequest, ResponseHandler)
    /// One of the room's schedules may be due.
    case alarm
    /// Work the room queued for itself from outside its turns (``RoomContext/enqueue(_:_:)``).
    case job(RoomJob)

    /// Whether another node forwarded the event here.
    var isViaPeer: Bool {
        switch self {
        case .connect(let connection), .message(let connection, _), .disconnect(let connection): connection.viaPeer
        case .request(let request, _): request.viaPeer
        case .alarm, .job: false
        }
    }

    /// Fails the event without running it: a connecting client is refused (an error frame, then
    /// the close code for `error`), a message is answered with an error frame naming it, a
    /// request throws `error`.
    func reject(with error: RoomError) {
        switch self {
        case .connect(let connection):
            connection.refuse(with: error)
        case .message(let connection, let message):
            connection.transport.send(ErrorFrame.frame(for: error.answering(message.frameID)))
            connection.finishFrame()
        case .disconnect, .alarm, .job:
            break
        case .request(_, let reply):
            reply.fail(error)
        }
    }
}
