import Foundation
public import NIOCore

/// An HTTP request addressed to a room, without HTTP types.
///
/// The server routes `METHOD /rooms/{kind}/{id}/{path...}` to the room's
/// ``Room/onRequest(_:context:)`` hook with ``path`` holding the components after the id, so
/// `GET /rooms/chat/lobby/messages?limit=10` arrives as method `GET`, path `["messages"]` and
/// query `["limit": "10"]`.
public struct RoomRequest: Sendable {
    /// The HTTP method, upper case (`GET`, `POST`, ...).
    public var method: String
    /// The path components after `/rooms/{kind}/{id}/`, percent-decoded.
    public var path: [String]
    /// The query parameters, percent-decoded. A repeated name keeps its last value.
    public var query: [String: String]
    /// The request body (empty when there is none).
    public var body: ByteBuffer
    /// The room that sent this request with ``RoomContext/call(_:to:timeout:)``; nil for HTTP.
    public var caller: RoomAddress?
    /// Who sent the request over HTTP: with `auth.mode: "jwt"` the verified token's user and
    /// claims; without authentication, the `user` query parameter when given (unverified), else
    /// nil. Nil for calls from other rooms.
    public var identity: Identity?
    /// What the runtime does with the request before (or instead of) the room's hook.
    @_spi(Node) public var purpose = Purpose.room
    /// Whether another node forwarded this request here: it is never forwarded again.
    @_spi(Node) public var viaPeer = false
    /// A long poll (``after``, up to ``seconds``): when the request is forwarded to the room's
    /// node, the waiting happens there, where the room commits.
    @_spi(Node) public var longPoll: LongPoll?

    /// The wait of a long poll.
    @_spi(Node) public struct LongPoll: Sendable, Codable {
        public var after: Int64
        public var seconds: Int
        public init(after: Int64, seconds: Int) {
            self.after = after
            self.seconds = seconds
        }
    }

    /// What a request is for.
    @_spi(Node) public enum Purpose: Sendable, Codable {
        /// The room's own routes (``Room/onRequest(_:context:)``).
        case room
        /// The server asks whether ``identity`` may enter the room (before a WebSocket upgrade).
        case admission
        /// Create the room with these members (its caller becomes an owner); `existing` says what
        /// to answer when it already exists.
        case creation([Member], existing: ExistingRoom)
        /// Delete the room (``RoomRuntime/delete(_:viaPeer:)`` on the node that owns it): only
        /// ever sent over a link between nodes, never to a room.
        case deletion
    }

    /// What a creation answers when the room already exists.
    @_spi(Node) public enum ExistingRoom: Sendable, Codable {
        /// `409 room_exists` (members rooms).
        case conflict
        /// `200` with the room, as is (direct rooms: both users get the same one).
        case returnIt
    }

    public init(
        method: String, path: [String], query: [String: String] = [:], body: ByteBuffer = ByteBuffer(),
        identity: Identity? = nil
    ) {
        self.method = method
        self.path = path
        self.query = query
        self.body = body
        self.identity = identity
    }

    /// A request whose body is `value` as JSON: how a room calls another with a payload.
    ///
    /// - Throws: ``RoomError`` `internal_error` if `value` cannot be encoded.
    public static func json(method: String, path: [String], _ value: some Encodable) throws(RoomError) -> RoomRequest {
        let data: Data
        do {
            data = try JSONEncoder().encode(value)
        } catch {
            throw .internal("cannot encode the request body: \(error)")
        }
        return RoomRequest(method: method, path: path, body: ByteBuffer(bytes: data))
    }

    /// The user this request speaks for: the verified user when the server authenticated the
    /// request (a name in the body is then ignored), else `claimed` (the name the body gives),
    /// else the `user` query parameter.
    ///
    /// - Throws: ``RoomError`` `missing_field` when nobody is named, `invalid_user` for a
    ///   malformed name.
    public func user(claimed: String?) throws(RoomError) -> String {
        guard let name = claimedUser(claimed) else { throw .badRequest(.missingField, "missing field 'user'") }
        return try UserName.validate(name)
    }

    /// The one rule for who a request speaks for (see ``user(claimed:)``), unvalidated; nil when
    /// nobody is named. The runtime's membership check and a room's own reading of the body
    /// agree by both using it.
    func claimedUser(_ claimed: String?) -> String? {
        if let identity, identity.isVerified { return identity.user }
        return claimed ?? identity?.user
    }

    /// Decodes the body as a JSON object of type `T`.
    ///
    /// - Throws: ``RoomError`` `invalid_json`, `missing_field` or `invalid_field`.
    public func decodeJSON<T: Decodable>(_ type: T.Type) throws(RoomError) -> T {
        try JSONFrameDecoding.decode(T.self, from: Data(body.readableBytesView))
    }

    /// The query parameter `name` as an integer within `range`, or nil when absent.
    ///
    /// - Throws: ``RoomError`` `invalid_query` when present but not an integer in `range`.
    public func integer(_ name: String, in range: ClosedRange<Int64>) throws(RoomError) -> Int64? {
        guard let text = query[name] else { return nil }
        guard let value = Int64(text), range.contains(value) else {
            throw .badRequest(.invalidQuery, "'\(name)' must be an integer from \(range.lowerBound) to \(range.upperBound)")
        }
        return value
    }
}
