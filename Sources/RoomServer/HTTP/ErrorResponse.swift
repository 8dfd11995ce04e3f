import HTTPTypes
import Hummingbird
import NIOCore
@_spi(Node) import RoomRuntime

/// The JSON body of every HTTP error: `{"error": {"code", "message"}}`.
struct ErrorResponse: Encodable {
    struct Detail: Encodable {
        let code: String
        let message: String
    }

    let error: Detail

    /// The HTTP status for each error category: the one place codes meet statuses.
    static func status(for category: RoomError.Category) -> HTTPResponse.Status {
        switch category {
        case .badRequest: .badRequest
        case .unauthorized: .unauthorized
        case .forbidden: .forbidden
        case .notFound: .notFound
        case .methodNotAllowed: .methodNotAllowed
        case .tooLarge: .contentTooLarge
        case .conflict: .conflict
        case .upgradeRequired: .upgradeRequired
        case .unavailable: .serviceUnavailable
        case .internal: .internalServerError
        }
    }

    /// The JSON body for `error`.
    static func body(for error: RoomError) -> ByteBuffer {
        body(code: error.code, message: error.message)
    }

    /// The JSON body of an error with `code` and `message`.
    static func body(code: RoomError.Code, message: String) -> ByteBuffer {
        (try? OutboundFrame.json(ErrorResponse(error: Detail(code: code.rawValue, message: message))))?.payload
            ?? ByteBuffer()
    }

    /// The response for `error`. Errors a retry may cure (503: the room is overloaded, being
    /// stopped, or its storage failed) say when to retry, in `Retry-After`.
    static func response(for error: RoomError) -> Response {
        var headers = headers(for: error)
        headers[.contentType] = "application/json"
        return Response(
            status: status(for: error.category), headers: headers, body: ResponseBody(byteBuffer: body(for: error)))
    }

    /// The headers an error's answer carries besides its body's: when to retry (`Retry-After`)
    /// for errors a retry may cure, and the token challenge (`WWW-Authenticate`) for a `401`.
    static func headers(for error: RoomError) -> HTTPFields {
        var headers: HTTPFields = [:]
        if let seconds = retryAfterSeconds(for: error) { headers[.retryAfter] = String(seconds) }
        if error.category == .unauthorized { headers[.wwwAuthenticate] = wwwAuthenticate }
        return headers
    }

    /// The `WWW-Authenticate` header of every `401` (RFC 6750, section 3).
    static let wwwAuthenticate = #"Bearer error="invalid_token""#

    /// How long a client should wait before retrying after `error`, if a retry may help.
    static func retryAfterSeconds(for error: RoomError) -> Int? {
        guard error.category == .unavailable else { return nil }
        switch error.code {
        case .roomOverloaded: return 1
        case .roomUnavailable: return 5
        default: return 1
        }
    }
}
