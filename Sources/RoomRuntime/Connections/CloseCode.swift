/// A WebSocket close code (RFC 6455 section 7.4; 4000-4999 are this protocol's own).
public struct CloseCode: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue }

    /// 1000: the purpose of the connection is fulfilled.
    public static let normal = CloseCode(rawValue: 1000)
    /// 1001: the server is going away (shutting down).
    public static let goingAway = CloseCode(rawValue: 1001)
    /// 1003: the endpoint received a kind of data it cannot accept.
    public static let unsupportedData = CloseCode(rawValue: 1003)
    /// 1008: the connection broke a rule of the protocol or the room.
    public static let policyViolation = CloseCode(rawValue: 1008)
    /// 1009: a message was larger than the configured limit.
    public static let messageTooBig = CloseCode(rawValue: 1009)
    /// 1011: the server hit an unexpected condition.
    public static let internalError = CloseCode(rawValue: 1011)

    public var description: String { String(rawValue) }
}

extension CloseCode {
    /// 1012: service restart; in a cluster, the node handed its rooms to the others as it
    /// stopped: reconnect now, to any node.
    public static let serviceRestart = CloseCode(rawValue: 1012)
    /// 1013: try again later; the server dropped a client that could not keep up.
    public static let tryAgainLater = CloseCode(rawValue: 1013)
}

extension CloseCode {
    /// 4401: the connection's token expired (or was never valid).
    public static let unauthorized = CloseCode(rawValue: 4401)
    /// 4403: the connection's user may no longer be here (removed from the room's members, or
    /// a refreshed token for another user or another room).
    public static let forbidden = CloseCode(rawValue: 4403)
    /// 4404: the room was deleted.
    public static let roomDeleted = CloseCode(rawValue: 4404)
}
