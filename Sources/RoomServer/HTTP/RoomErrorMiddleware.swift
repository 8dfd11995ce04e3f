import HTTPTypes
import Logging
import Hummingbird
import NIOCore
import NIOHTTP1
@_spi(Node) import RoomRuntime

/// Turns every error a route throws into the protocol's JSON error response.
struct RoomErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        do {
            return try await next(request, context)
        } catch let error as RoomError {
            return ErrorResponse.response(for: error)
        } catch is NIOTooManyBytesError {
            return ErrorResponse.response(for: .tooLarge(.payloadTooLarge, "the request body is too large"))
        } catch let error as HTTPParserError {
            // The body's framing is broken (chunked encoding, Content-Length): the client's fault.
            // The connection closes after this answer (HTTPRequestGuard).
            return ErrorResponse.response(
                for: .badRequest(.malformedRequest, "the request body is not valid HTTP/1.1 (\(error))"))
        } catch let error as HTTPError {
            switch error.status {
            case .notFound:
                return ErrorResponse.response(for: .notFound(.notFound, "no route \(request.method) \(request.uri.path)"))
            case .methodNotAllowed:
                return ErrorResponse.response(for: RoomError(.methodNotAllowed, .methodNotAllowed, "method not allowed"))
            default:
                return ErrorResponse.response(
                    for: RoomError(
                        error.status.code >= 500 ? .internal : .badRequest,
                        error.status.code >= 500 ? .internalError : .invalidField, error.body ?? "\(error.status)"))
            }
        } catch {
            context.logger.error("request failed", metadata: ["error": "\(error)"])
            return ErrorResponse.response(for: .internal("the server failed to handle the request"))
        }
    }
}
