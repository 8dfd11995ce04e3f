import RoomRuntime

extension RoomError.Code {
    // Codes only the HTTP edge answers with (see the error-code table of docs/PROTOCOL.md).

    /// The request is not valid HTTP/1.1: the parser refused its request line, its headers or its
    /// body's framing (chunked encoding, Content-Length).
    static let malformedRequest: Self = "malformed_request"
    /// The client did not send a complete request head within `server.requestHeaderTimeoutSeconds`.
    static let requestTimeout: Self = "request_timeout"
    /// The node has as many connections open as its descriptor limit allows.
    static let tooManyConnections: Self = "too_many_connections"
    /// `server.maxWaitingPolls` long polls are already waiting on the node.
    static let tooManyWaiters: Self = "too_many_waiters"
    /// A path segment under a room is not valid percent-encoded UTF-8.
    static let invalidPath: Self = "invalid_path"
    /// A browser's `Origin` is not in `server.allowedOrigins`.
    static let forbiddenOrigin: Self = "forbidden_origin"
}
