import HTTPTypes
import Hummingbird
import NIOCore
import RoomRuntime

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

    /// The response for `error`.
    static func response(for error: RoomError) -> Response {
        let body = body(for: error)
        return Response(
            status: status(for: error.category), headers: [.contentType: "application/json"],
            body: ResponseBody(byteBuffer: body))
    }
}
