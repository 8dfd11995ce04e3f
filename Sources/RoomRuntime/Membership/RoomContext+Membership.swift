import Foundation
import Logging
import NIOCore

extension RoomContext {
    // The runtime enforces a kind's `access` (see ``RoomAccess``) before a room class sees
    // anything: in a `members` or `direct` room, a connection, a message and an HTTP request reach
    // the room's hooks only from a member, and a reader's only when it reads. The member routes
    // (`/rooms/{kind}/{id}/members...`) are the runtime's. A room "exists" for these kinds once it
    // has members: its creation stores the first ones, and the last owner cannot leave.

    /// The room's members, oldest first; empty in an `open` room.
    ///
    /// - Throws: when the room's file cannot be read.
    public func members() throws -> [Member] {
        try memberList().sorted
    }

    /// The role of `user` in this room, or nil when they are not a member (always nil in an
    /// `open` room).
    ///
    /// - Throws: when the room's file cannot be read.
    public func role(of user: String) throws -> MemberRole? {
        try memberList().role(of: user)
    }

    /// `user` as a member of this room (role, when added), or nil when they are not one.
    ///
    /// - Throws: when the room's file cannot be read.
    public func member(_ user: String) throws -> Member? {
        try memberList().byUser[user]
    }

    /// Whether the room has members (false in an `open` room), without listing them.
    ///
    /// - Throws: when the room's file cannot be read.
    public func hasMembers() throws -> Bool {
        try !memberList().byUser.isEmpty
    }

    /// The members, read from storage on first use after activation.
    func memberList() throws -> MemberList {
        if let memberCache { return memberCache }
        let loaded = try MemberList.load(from: storage)
        memberCache = loaded
        return loaded
    }

    private var access: RoomAccess { slot.kind.access }

    static func roomNotFound(_ address: RoomAddress) -> RoomError {
        .notFound(.roomNotFound, "room \(address) does not exist")
    }

    static func notAMember(frameID: String? = nil) -> RoomError {
        .forbidden(.notAMember, "you are not a member of this room", frameID: frameID)
    }

    /// Checks that `connection` may enter the room (in a connect turn).
    ///
    /// - Throws: ``RoomError`` `room_not_found` or `not_a_member`.
    func admit(_ connection: RoomConnection) throws(RoomError) {
        guard access != .open else { return }
        _ = try memberRole(of: connection.user)
    }

    /// Checks that `connection` may send `message` (in a message turn): a member who is not a
    /// reader, or a reader sending a frame type the class allows readers.
    ///
    /// - Throws: ``RoomError`` `not_a_member` or `read_only`, naming the frame.
    func checkPoster(_ connection: RoomConnection, message: ClientMessage) throws(RoomError) {
        guard access != .open else { return }
        let role: MemberRole
        do {
            role = try memberRole(of: connection.user)
        } catch {
            throw error.answering(message.frameID)
        }
        let readerTypes = slot.kind.roomClass.readerFrameTypes
        guard role.canPost || (!readerTypes.isEmpty && message.frameType.map(readerTypes.contains) == true) else {
            throw .forbidden(
                .readOnly, "readers of this room cannot post", frameID: message.frameID)
        }
    }

    /// The role of `user`, who must be a member of a room that exists.
    private func memberRole(of user: String) throws(RoomError) -> MemberRole {
        let list = try loadedMembers()
        guard !list.byUser.isEmpty else { throw Self.roomNotFound(address) }
        guard let role = list.role(of: user) else { throw Self.notAMember() }
        return role
    }

    private func loadedMembers() throws(RoomError) -> MemberList {
        do {
            return try memberList()
        } catch {
            logger.error("cannot read the room's members", metadata: ["error": "\(error)"])
            throw .unavailable(.storageFailed, "the room's members cannot be read")
        }
    }

    /// What the runtime answers for `request` itself, before the room's hook: a creation, an
    /// admission, a member route, or a refusal. Nil lets the room's hook answer.
    func answerForAccess(_ request: RoomRequest) throws(RoomError) -> RoomResponse? {
        switch request.purpose {
        case .creation(let members, let existing):
            return try create(with: members, existing: existing, request: request)
        case .deletion:
            throw .internal("a deletion reached a room; the node deletes rooms itself")
        case .admission:
            guard let identity = request.identity else { throw .internal("an admission without an identity") }
            _ = try memberRole(of: identity.user)
            return RoomResponse(status: 204)
        case .room:
            guard access != .open, request.caller == nil else { return nil }
            let user = try Self.requester(of: request)
            let role = try memberRole(of: user)
            if request.path.first == "members" {
                return try answerMemberRoute(request, from: user, role: role)
            }
            guard role.canPost || request.method == "GET" || request.method == "HEAD" else {
                throw .forbidden(.readOnly, "readers of this room cannot write to it")
            }
            return nil
        }
    }

    /// Who sent an HTTP request to a `members` or `direct` room: the verified user, or without
    /// authentication the body's `user` field or the `user` query parameter, by the same rule a
    /// room reads its body with (``RoomRequest/user(claimed:)``), so that the member checked is
    /// the user the room acts for.
    static func requester(of request: RoomRequest) throws(RoomError) -> String {
        struct Named: Decodable { let user: String? }
        let named = request.identity?.isVerified == true
            ? nil : try? JSONDecoder().decode(Named.self, from: Data(request.body.readableBytesView))
        guard let user = request.claimedUser(named?.user) else {
            throw .badRequest(.invalidUser, "name the user: ?user=NAME or the body's \"user\"")
        }
        return try UserName.validate(user)
    }

    /// Creates the room with `members`, unless it exists.
    private func create(with members: [Member], existing: RoomRequest.ExistingRoom, request: RoomRequest)
        throws(RoomError) -> RoomResponse
    {
        var list = try loadedMembers()
        struct Created: Encodable {
            let kind: String
            let id: String
            let members: [Member]
        }
        if !list.byUser.isEmpty {
            switch existing {
            case .conflict:
                throw RoomError(.conflict, .roomExists, "room \(address) already exists")
            case .returnIt:
                guard let user = request.identity?.user, list.role(of: user) != nil else { throw Self.notAMember() }
                return try .json(Created(kind: kind, id: id, members: list.sorted), status: 200)
            }
        }
        do {
            for member in members { try list.put(member, in: storage) }
        } catch {
            throw Self.storageFailed
        }
        memberCache = list
        memberChanges += members.map(MemberChange.added)
        return try .json(Created(kind: kind, id: id, members: list.sorted), status: 201)
    }

    /// `GET /members`, and `GET`, `PUT` or `DELETE /members/{user}`.
    private func answerMemberRoute(_ request: RoomRequest, from user: String, role: MemberRole)
        throws(RoomError) -> RoomResponse
    {
        var list = try loadedMembers()
        struct Members: Encodable { let members: [Member] }
        switch (request.method, request.path.count) {
        case ("GET", 1):
            return try .json(Members(members: list.sorted))
        case (_, 1):
            throw RoomError(.methodNotAllowed, .methodNotAllowed, "/members takes GET")
        case (_, 2):
            break
        default:
            throw .notFound(.notFound, "no route \(request.method) /\(request.path.joined(separator: "/"))")
        }
        let target = try UserName.validate(request.path[1])
        switch request.method {
        case "GET":
            guard let member = list.byUser[target] else { throw Self.memberNotFound(target) }
            return try .json(member)
        case "PUT", "DELETE":
            break
        default:
            throw RoomError(.methodNotAllowed, .methodNotAllowed, "/members/{user} takes GET, PUT and DELETE")
        }
        guard access == .members else {
            throw .forbidden(.forbidden, "the members of a direct room are fixed")
        }
        let leaving = request.method == "DELETE" && target == user
        guard role.canManageMembers || leaving else {
            throw .forbidden(.forbidden, "only the room's owners manage its members")
        }
        let current = list.byUser[target]
        if request.method == "DELETE" {
            guard let current else { throw Self.memberNotFound(target) }
            if current.role == .owner, list.ownerCount == 1 {
                throw RoomError(.conflict, .lastOwner, "the room's last owner cannot leave it; name another owner first")
            }
            try storing { try list.remove(target, in: storage) }
            memberCache = list
            memberChanges.append(.removed(current))
            broadcast(try .json(MemberFrame(event: .removed, user: target, role: current.role)))
            let removed = Self.notAMember()
            for connection in connections where connection.user == target {
                send(ErrorFrame.frame(for: removed), to: connection)
                close(connection, code: CloseCode(closingFor: removed), reason: removed.code.rawValue)
            }
            return RoomResponse(status: 204)
        }
        let newRole = try Self.decodeRole(request)
        if let current, current.role == newRole { return try .json(current) }
        if current?.role == .owner, list.ownerCount == 1 {
            throw RoomError(.conflict, .lastOwner, "the room's last owner cannot step down; name another owner first")
        }
        let member = Member(user: target, role: newRole, addedAt: current?.addedAt ?? now())
        try storing { try list.put(member, in: storage) }
        memberCache = list
        memberChanges.append(current == nil ? .added(member) : .changed(member))
        broadcast(try .json(MemberFrame(event: current == nil ? .added : .role, user: target, role: newRole)))
        return try .json(member, status: current == nil ? 201 : 200)
    }

    /// Runs a member write, reporting a storage failure as `storage_failed`.
    private func storing(_ body: () throws -> Void) throws(RoomError) {
        do {
            try body()
        } catch {
            logger.error("cannot store the room's members", metadata: ["error": "\(error)"])
            throw Self.storageFailed
        }
    }

    private static func memberNotFound(_ user: String) -> RoomError {
        .notFound(.memberNotFound, "'\(user)' is not a member of this room")
    }

    /// The body of `PUT /members/{user}`: `{"role": "owner" | "member" | "reader"}` and nothing
    /// else (but `user`, the caller's name without authentication).
    static func decodeRole(_ request: RoomRequest) throws(RoomError) -> MemberRole {
        let body = try StrictBody.object(request.body, allowing: request.identity == nil ? ["role", "user"] : ["role"])
        guard let value = body["role"], value != .null else { throw .badRequest(.missingField, "missing field 'role'") }
        guard let text = value.stringValue, let role = MemberRole(rawValue: text) else {
            throw .badRequest(.invalidField, "field 'role' must be one of \"owner\", \"member\", \"reader\"")
        }
        return role
    }
}
