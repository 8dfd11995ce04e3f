/// What a ``RoomClient`` tells the app, in the order it happened: iterate ``RoomClient/events``.
public enum RoomEvent: Sendable {
    /// A connection opened (every reconnection too).
    case welcome(Welcome)
    /// A stored message: each exactly once, in ascending `seq` with no gap, across reconnects.
    case message(Message)
    /// The connection state changed.
    case state(ConnectionState)
    /// Who is online changed (also after every welcome); ``RoomClient/online`` is the count.
    case presence([Present])
    /// `user` read up to `seq`; ``RoomClient/receipts`` keeps each user's highest.
    case receipt(user: String, seq: Int)
    /// `user` is typing (show it for about 5 seconds).
    case typing(user: String)
    /// A membership changed: `event` is `added`, `role` or `removed` (members and direct kinds).
    case member(event: String, user: String, role: String?)
    /// An AI answer stream changed (started, grew, ended, failed); ``RoomClient/streams`` keeps them.
    case ai(AnswerStream)
    /// The inbox changed (an `/inbox/ws` client): every room in it, most recently updated first.
    case inbox([InboxRoom])
    /// The room was deleted and created again (its epoch changed): `seq` starts over from 0.
    case reset(Welcome)
    /// The outbox changed: `size` sends wait for their ack; `full` when a send was refused.
    case outbox(size: Int, full: Bool)
    /// An `error` frame not tied to a waiting send (a refused `read` or room frame, ...).
    case error(RoomsError)
    /// Stopped for good: ``RoomClient/close()`` (1000), or a terminal close code (1008, 1009,
    /// 4401 without a token provider, 4403, 4404) with the server's reason. The last event.
    case closed(code: Int, reason: String)
    /// Every frame the server sent, decoded (a room's own frames: game states, counters, ...).
    case frame([String: JSONValue])
}
