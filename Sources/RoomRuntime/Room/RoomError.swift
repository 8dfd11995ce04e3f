/// An error with a protocol code, for a client to read and act on.
///
/// Throw it from a room hook to reject what a client sent: the runtime rolls back the turn's
/// writes, drops the turn's output and answers the sender with an error frame
/// (`{"type": "error", "code", "message", "id"}`) or, for an HTTP request, with the status of the
/// error's ``Category``. The connection stays open.
///
/// ```swift
/// guard move.isLegal else {
///     throw RoomError.badRequest("illegal_move", "that square is taken", frameID: frame.id)
/// }
/// ```
///
/// Every code a room class can return belongs in `docs/PROTOCOL.md`.
public struct RoomError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A stable, machine-readable error code such as `invalid_json`.
    public struct Code: RawRepresentable, Hashable, Sendable, ExpressibleByStringLiteral, CustomStringConvertible {
        public let rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        public init(stringLiteral value: String) { self.rawValue = value }
        public var description: String { rawValue }
    }

    /// What kind of failure this is; the server maps it to an HTTP status in one place.
    public enum Category: Sendable, Equatable {
        /// The input is malformed or not allowed (HTTP 400).
        case badRequest
        /// The caller's credentials are missing or invalid (HTTP 401; WebSocket close 4401).
        case unauthorized
        /// The caller is known but not allowed to do this (HTTP 403; WebSocket close 4403).
        case forbidden
        /// The thing asked for does not exist (HTTP 404).
        case notFound
        /// The method does not apply to this resource (HTTP 405).
        case methodNotAllowed
        /// The input is larger than a documented limit (HTTP 413).
        case tooLarge
        /// The request conflicts with the current state (HTTP 409).
        case conflict
        /// The route only takes a WebSocket upgrade (HTTP 426).
        case upgradeRequired
        /// The room or the node cannot serve now; retrying later may work (HTTP 503).
        case unavailable
        /// A bug or an unexpected failure on the server (HTTP 500).
        case `internal`
    }

    /// The protocol code.
    public var code: Code
    /// A human-readable explanation. Never contains secrets.
    public var message: String
    /// The category, which picks the HTTP status.
    public var category: Category
    /// The `id` of the client frame this error answers, when it had one.
    public var frameID: String?

    public init(_ category: Category, _ code: Code, _ message: String, frameID: String? = nil) {
        self.category = category
        self.code = code
        self.message = message
        self.frameID = frameID
    }

    public var description: String { "\(code): \(message)" }

    /// The same error, answering the client frame `id`.
    public func answering(_ id: String?) -> RoomError {
        var copy = self
        if copy.frameID == nil { copy.frameID = id }
        return copy
    }

    /// Malformed or disallowed input (HTTP 400).
    public static func badRequest(_ code: Code, _ message: String, frameID: String? = nil) -> RoomError {
        RoomError(.badRequest, code, message, frameID: frameID)
    }

    /// Missing or invalid credentials (HTTP 401).
    public static func unauthorized(_ code: Code, _ message: String, frameID: String? = nil) -> RoomError {
        RoomError(.unauthorized, code, message, frameID: frameID)
    }

    /// A caller who may not do this (HTTP 403).
    public static func forbidden(_ code: Code, _ message: String, frameID: String? = nil) -> RoomError {
        RoomError(.forbidden, code, message, frameID: frameID)
    }

    /// Something that does not exist (HTTP 404).
    public static func notFound(_ code: Code, _ message: String) -> RoomError {
        RoomError(.notFound, code, message)
    }

    /// Input over a documented limit (HTTP 413).
    public static func tooLarge(_ code: Code, _ message: String, frameID: String? = nil) -> RoomError {
        RoomError(.tooLarge, code, message, frameID: frameID)
    }

    /// Temporarily unable to serve (HTTP 503).
    public static func unavailable(_ code: Code, _ message: String, frameID: String? = nil) -> RoomError {
        RoomError(.unavailable, code, message, frameID: frameID)
    }

    /// An unexpected failure (HTTP 500).
    public static func `internal`(_ message: String, frameID: String? = nil) -> RoomError {
        RoomError(.internal, .internalError, message, frameID: frameID)
    }
}

extension RoomError.Code {
    // Codes the runtime and the server use. Room classes add their own.

    /// A frame or body is not valid JSON, or not a JSON object.
    public static let invalidJSON: Self = "invalid_json"
    /// A frame's `type` is not one the room understands.
    public static let unknownType: Self = "unknown_type"
    /// A required field is missing or empty.
    public static let missingField: Self = "missing_field"
    /// A field has the wrong JSON type or an invalid value.
    public static let invalidField: Self = "invalid_field"
    /// A binary frame arrived where text frames are expected.
    public static let binaryUnsupported: Self = "binary_unsupported"
    /// The room id is malformed.
    public static let invalidRoomID: Self = "invalid_room_id"
    /// The kind name is malformed.
    public static let invalidKind: Self = "invalid_kind"
    /// The kind is not configured on this node.
    public static let unknownKind: Self = "unknown_kind"
    /// The user name is missing or malformed.
    public static let invalidUser: Self = "invalid_user"
    /// A query parameter is malformed.
    public static let invalidQuery: Self = "invalid_query"
    /// No route matches.
    public static let notFound: Self = "not_found"
    /// The route exists but not for this method.
    public static let methodNotAllowed: Self = "method_not_allowed"
    /// A plain HTTP request reached the WebSocket route.
    public static let upgradeRequired: Self = "upgrade_required"
    /// A request body is over the size limit.
    public static let payloadTooLarge: Self = "payload_too_large"
    /// The room's writes could not be committed; nothing from the turn was stored.
    public static let storageFailed: Self = "storage_failed"
    /// The room could not be activated (its file could not be opened or migrated).
    public static let roomUnavailable: Self = "room_unavailable"
    /// The node is shutting down.
    public static let shuttingDown: Self = "shutting_down"
    /// The room's mailbox is full (`runtime.maxQueuedEvents`); retry after a moment.
    public static let roomOverloaded: Self = "room_overloaded"
    /// The room does not exist.
    public static let roomNotFound: Self = "room_not_found"
    /// The room was deleted.
    public static let roomDeleted: Self = "room_deleted"
    /// A schedule's name, time, retry policy or payload is invalid.
    public static let invalidSchedule: Self = "invalid_schedule"
    /// A call to another room got no answer in time.
    public static let callTimeout: Self = "call_timeout"
    /// Connection tags over the limits.
    public static let invalidTags: Self = "invalid_tags"
    /// A connection attachment over the size limit.
    public static let attachmentTooLarge: Self = "attachment_too_large"
    /// An unexpected failure in the server or a room class.
    public static let internalError: Self = "internal_error"
    /// The request carries no valid token (missing, malformed, badly signed, expired, not yet
    /// valid, or for another issuer or audience).
    public static let unauthorized: Self = "unauthorized"
    /// The token is valid but does not allow this (its `rooms` claim, or an admin route).
    public static let forbidden: Self = "forbidden"
    /// The token of a live connection expired (close 4401).
    public static let tokenExpired: Self = "token_expired"
    /// The caller is not a member of the room (close 4403 for a removed member).
    public static let notAMember: Self = "not_a_member"
    /// A `reader` of the room tried to post.
    public static let readOnly: Self = "read_only"
    /// The room to create already exists.
    public static let roomExists: Self = "room_exists"
    /// The room would be left without an owner.
    public static let lastOwner: Self = "last_owner"
    /// The user is not a member of the room.
    public static let memberNotFound: Self = "member_not_found"
}
