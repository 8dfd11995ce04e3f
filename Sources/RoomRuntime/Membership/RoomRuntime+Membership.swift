import Foundation
public import NIOCore

extension RoomRuntime {
    /// The most members a room can be created with in one request.
    public static let maxInitialMembers = 1_000

    /// Checks that `identity` may enter the room at `address`, without creating it: nothing to
    /// check in an `open` kind; in a `members` or `direct` kind, the room must exist and
    /// `identity` be one of its members. The server asks before upgrading a WebSocket.
    ///
    /// - Throws: ``RoomError`` `room_not_found`, `not_a_member`, `unknown_kind`, or the errors of
    ///   ``request(_:to:)``.
    public func admit(_ identity: Identity, to address: RoomAddress) async throws(RoomError) {
        let kind = try self.kind(of: address)
        guard kind.access != .open else { return }
        var request = RoomRequest(method: "GET", path: [], identity: identity)
        request.purpose = .admission
        _ = try await self.request(request, to: address)
    }

    /// Creates the `members` room at `address` from the body of `POST /rooms/{kind}/{id}`:
    /// `{"members": [{"user", "role"}]}` (optional). Its caller becomes an owner.
    ///
    /// - Parameter identity: the caller; nil without authentication and without `?user=`, when
    ///   the body's `user` names the caller.
    /// - Returns: `201` with `{"kind", "id", "members"}`.
    /// - Throws: ``RoomError`` `room_exists` (409), `method_not_allowed` for a kind that is not
    ///   `members`, `invalid_json`, `invalid_field`, `missing_field`, `invalid_user`.
    public func createRoom(at address: RoomAddress, body: ByteBuffer, identity: Identity?) async throws(RoomError)
        -> RoomResponse
    {
        let kind = try self.kind(of: address)
        guard kind.access == .members else {
            let how =
                kind.access == .direct
                ? "direct rooms are opened with POST /direct/\(kind.name)"
                : "rooms of kind '\(kind.name)' are open: their first connection or stored write creates them"
            throw RoomError(.methodNotAllowed, .methodNotAllowed, how)
        }
        let creation = try RoomCreation.decode(body, identity: identity)
        let now = WallClock.millisecondsSince1970()
        var members = [Member(user: creation.creator, role: .owner, addedAt: now)]
        for requested in creation.members where requested.user != creation.creator {
            members.append(Member(user: requested.user, role: requested.role, addedAt: now))
        }
        var request = RoomRequest(method: "POST", path: [], identity: identity ?? .named(creation.creator))
        request.purpose = .creation(members, existing: .conflict)
        return try await self.request(request, to: address)
    }

    /// Opens the one-to-one room of kind `kindName` between `identity` and `other` about `topic`
    /// (the body of `POST /direct/{kind}`: `{"with", "topic"?}`), creating it with both as members
    /// if new.
    ///
    /// - Returns: the room's address, and `201` (created) or `200` (it existed) with
    ///   `{"kind", "id", "members"}`.
    /// - Throws: ``RoomError`` `unknown_kind`, `method_not_allowed` for a kind that is not `direct`,
    ///   `invalid_json`, `invalid_field`, `missing_field`, `invalid_user`.
    ///
    /// - Parameter authorize: checks that the caller may open the room's address (the token's
    ///   `rooms` claim), before anything is created.
    public func openDirectRoom(
        kind kindName: String, body: ByteBuffer, identity: Identity?,
        authorize: (RoomAddress) throws(RoomError) -> Void = { _ in }
    ) async throws(RoomError) -> (RoomAddress, RoomResponse) {
        guard let kind = configuration.kinds[kindName] else {
            throw .notFound(.unknownKind, "kind '\(kindName)' is not configured on this node")
        }
        guard kind.access == .direct else {
            throw RoomError(
                .methodNotAllowed, .methodNotAllowed, "kind '\(kindName)' is not a direct kind (\"access\": \"direct\")")
        }
        let opening = try DirectOpening.decode(body, identity: identity)
        let address = try RoomAddress(
            kind: kindName, id: DirectRoom.id(between: opening.caller, and: opening.other, topic: opening.topic))
        try authorize(address)
        let now = WallClock.millisecondsSince1970()
        var request = RoomRequest(method: "POST", path: [], identity: identity ?? .named(opening.caller))
        request.purpose = .creation(
            [Member(user: opening.caller, role: .member, addedAt: now), Member(user: opening.other, role: .member, addedAt: now)],
            existing: .returnIt)
        return (address, try await self.request(request, to: address))
    }

    /// The configured kind of `address`.
    func kind(of address: RoomAddress) throws(RoomError) -> RoomKind {
        guard let kind = configuration.kinds[address.kind] else {
            throw .notFound(.unknownKind, "kind '\(address.kind)' is not configured on this node")
        }
        return kind
    }
}

/// The body of `POST /rooms/{kind}/{id}`, validated.
struct RoomCreation {
    struct Requested {
        let user: String
        let role: MemberRole
    }

    let creator: String
    let members: [Requested]

    static func decode(_ body: ByteBuffer, identity: Identity?) throws(RoomError) -> RoomCreation {
        let object = try StrictBody.object(body, allowing: identity == nil ? ["members", "user"] : ["members"])
        let creator = try StrictBody.caller(object, identity: identity)
        var members: [Requested] = []
        switch object["members"] {
        case nil, .null?:
            break
        case .array(let entries)?:
            guard entries.count <= RoomRuntime.maxInitialMembers else {
                throw .badRequest(.invalidField, "at most \(RoomRuntime.maxInitialMembers) members at creation")
            }
            var seen: Set<String> = []
            for (index, entry) in entries.enumerated() {
                guard case .object(let fields) = entry else {
                    throw .badRequest(.invalidField, "members.\(index) must be an object {\"user\", \"role\"}")
                }
                if let unknown = fields.keys.sorted().first(where: { $0 != "user" && $0 != "role" }) {
                    throw .badRequest(.invalidField, "members.\(index): unknown field '\(unknown)'")
                }
                guard case .string(let name)? = fields["user"] else {
                    throw .badRequest(.missingField, "members.\(index).user must be a string")
                }
                let user = try UserName.validate(name)
                let role: MemberRole
                switch fields["role"] {
                case nil, .null?:
                    role = .member
                case .string(let text)? where MemberRole(rawValue: text) != nil:
                    role = MemberRole(rawValue: text)!
                default:
                    throw .badRequest(
                        .invalidField, "members.\(index).role must be one of \"owner\", \"member\", \"reader\"")
                }
                guard seen.insert(user).inserted else {
                    throw .badRequest(.invalidField, "members.\(index): '\(user)' is listed twice")
                }
                members.append(Requested(user: user, role: role))
            }
        default:
            throw .badRequest(.invalidField, "'members' must be a list of {\"user\", \"role\"}")
        }
        return RoomCreation(creator: creator, members: members)
    }
}

/// The body of `POST /direct/{kind}`, validated.
struct DirectOpening {
    let caller: String
    let other: String
    let topic: String?

    static func decode(_ body: ByteBuffer, identity: Identity?) throws(RoomError) -> DirectOpening {
        let object = try StrictBody.object(body, allowing: identity == nil ? ["with", "topic", "user"] : ["with", "topic"])
        let caller = try StrictBody.caller(object, identity: identity)
        guard case .string(let name)? = object["with"] else {
            throw .badRequest(.missingField, "'with' must name the other user")
        }
        let other = try UserName.validate(name)
        guard other != caller else {
            throw .badRequest(.invalidField, "a direct room is between two different users")
        }
        var topic: String?
        switch object["topic"] {
        case nil, .null?:
            break
        case .string(let text)?
        where !text.isEmpty && text.utf8.count <= DirectRoom.maxTopicBytes
            && !text.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }):
            topic = text
        default:
            throw .badRequest(
                .invalidField, "'topic' must be 1 to \(DirectRoom.maxTopicBytes) bytes of UTF-8 without control characters")
        }
        return DirectOpening(caller: caller, other: other, topic: topic)
    }
}

/// Reading request bodies that refuse fields nobody reads.
enum StrictBody {
    /// The body as a JSON object (an empty body is an empty object) whose keys are all in `allowed`.
    static func object(_ body: ByteBuffer, allowing allowed: Set<String>) throws(RoomError) -> [String: JSONValue] {
        guard body.readableBytes > 0 else { return [:] }
        let object = try JSONFrameDecoding.decode([String: JSONValue].self, from: Data(body.readableBytesView))
        if let unknown = object.keys.sorted().first(where: { !allowed.contains($0) }) {
            throw .badRequest(
                .invalidField, "unknown field '\(unknown)'; expected \(allowed.sorted().joined(separator: ", "))")
        }
        return object
    }

    /// The caller: the identity's user, or (without one) the body's `user`.
    static func caller(_ object: [String: JSONValue], identity: Identity?) throws(RoomError) -> String {
        if let identity { return identity.user }
        guard case .string(let name)? = object["user"] else {
            throw .badRequest(.invalidUser, "name the user: ?user=NAME or the body's \"user\"")
        }
        return try UserName.validate(name)
    }
}
