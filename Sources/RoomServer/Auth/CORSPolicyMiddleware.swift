import HTTPTypes
import Hummingbird
@_spi(Node) import RoomRuntime

/// Cross-origin resource sharing for the HTTP routes, by ``OriginPolicy``.
///
/// A request from an allowed origin gets `Access-Control-Allow-Origin` (its origin) and
/// `Vary: Origin`; a preflight (`OPTIONS` with `Access-Control-Request-Method`) is answered `204`
/// with the methods and headers the protocol uses. A request from an origin that is not allowed
/// is refused, `403 forbidden_origin`, before any route runs.
///
/// Written here rather than using Hummingbird's `CORSMiddleware`, which takes its list of origins
/// as a variadic argument (not a configured list), has no same-origin rule, and lets requests from
/// other origins through to the routes.
struct CORSPolicyMiddleware<Context: RequestContext>: RouterMiddleware {
    let gatekeeper: Gatekeeper

    static var allowMethods: String { "GET, POST, PUT, PATCH, DELETE, OPTIONS" }
    static var allowHeaders: String { "Authorization, Content-Type" }
    static var exposeHeaders: String { "Retry-After, WWW-Authenticate" }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        guard let origin = request.headers[.origin] else { return try await next(request, context) }
        do {
            try gatekeeper.checkOrigins(request.headers[values: .origin], host: request.head.authority)
        } catch {
            return ErrorResponse.response(for: error)
        }
        var response: Response
        if request.method == .options, request.headers[.accessControlRequestMethod] != nil {
            response = Response(status: .noContent)
            response.headers[.accessControlAllowMethods] = Self.allowMethods
            response.headers[.accessControlAllowHeaders] = Self.allowHeaders
            response.headers[.accessControlMaxAge] = "600"
        } else {
            response = try await next(request, context)
            response.headers[.accessControlExposeHeaders] = Self.exposeHeaders
        }
        response.headers[.accessControlAllowOrigin] = origin
        response.headers[.vary] = "Origin"
        return response
    }
}
