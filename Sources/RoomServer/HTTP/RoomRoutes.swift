import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
@_spi(Node) import RoomRuntime

/// The HTTP side of the protocol (docs/PROTOCOL.md): health, room info, the WebSocket route for
/// plain requests, and every other room route, handed to the room's `onRequest` hook.
struct RoomRoutes: Sendable {
    let runtime: RoomRuntime
    let maxBodyBytes: Int
    /// Whether the node is shutting down (health turns 503).
    let isStopping: @Sendable () -> Bool
    /// The metrics in Prometheus text format.
    let metrics: @Sendable () -> ByteBuffer

    /// The methods a room's `onRequest` hook can receive.
    static let roomMethods: [HTTPRequest.Method] = [.get, .post, .put, .patch, .delete]

    func register(on router: Hummingbird.Router<BasicRequestContext>) {
        router.add(middleware: RoomErrorMiddleware())
        router.get("/healthz") { _, _ in
            try json(isStopping() ? ["status": "stopping"] : ["status": "ok"], status: isStopping() ? 503 : 200)
        }
        router.get("/metrics") { _, _ in
            Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: ResponseBody(byteBuffer: metrics()))
        }
        router.get("/rooms") { request, _ in
            let query = RoomPath.query(request.uri)
            let known: Set = ["kind", "prefix", "limit", "cursor"]
            if let unknown = query.keys.sorted().first(where: { !known.contains($0) }) {
                throw RoomError.badRequest(.invalidQuery, "unknown parameter '\(unknown)'; expected kind, prefix, limit, cursor")
            }
            var limit = 100
            if let text = query["limit"] {
                guard let value = Int(text) else {
                    throw RoomError.badRequest(.invalidQuery, "'limit' must be an integer from 1 to \(RoomRuntime.maxListLimit)")
                }
                limit = value
            }
            return try json(
                runtime.listRooms(kind: query["kind"], prefix: query["prefix"] ?? "", cursor: query["cursor"], limit: limit))
        }
        router.get("/rooms/{kind}/{id}") { _, context in
            try json(runtime.info(for: address(context)))
        }
        router.delete("/rooms/{kind}/{id}") { _, context -> Response in
            let address = try address(context)
            guard try await runtime.delete(address) else {
                throw RoomError.notFound(.roomNotFound, "room \(address) does not exist")
            }
            return Response(status: .noContent)
        }
        router.get("/rooms/{kind}/{id}/ws") { request, _ -> Response in
            // Upgrade requests never get here unless refused: answer why, or say what is needed.
            _ = try WebSocketTarget.parse(uri: request.uri.description, runtime: runtime)
            throw RoomError(
                .upgradeRequired, .upgradeRequired, "this route takes a WebSocket upgrade request on a new connection")
        }
        for method in Self.roomMethods {
            router.on("/rooms/{kind}/{id}/**", method: method) { request, context in
                try await forward(request, context: context)
            }
        }
    }

    private func address(_ context: BasicRequestContext) throws(RoomError) -> RoomAddress {
        try RoomPath.address(
            kind: Substring(context.parameters.get("kind") ?? ""), id: Substring(context.parameters.get("id") ?? ""),
            runtime: runtime)
    }

    private func forward(_ request: Request, context: BasicRequestContext) async throws -> Response {
        let address = try address(context)
        var path: [String] = []
        for component in context.parameters.getCatchAll() {
            guard let decoded = String(component).removingPercentEncoding else {
                throw RoomError.badRequest(.invalidPath, "the path is not valid percent-encoded UTF-8")
            }
            path.append(decoded)
        }
        var request = request
        let body = try await request.collectBody(upTo: maxBodyBytes)
        let response = try await runtime.request(
            RoomRequest(method: request.method.rawValue, path: path, query: RoomPath.query(request.uri), body: body),
            to: address)
        return Response(
            status: HTTPResponse.Status(code: response.status), headers: [.contentType: response.contentType],
            body: ResponseBody(byteBuffer: response.body))
    }

    private func json(_ value: some Encodable, status: Int = 200) throws -> Response {
        let response = try RoomResponse.json(value, status: status)
        return Response(
            status: HTTPResponse.Status(code: response.status), headers: [.contentType: response.contentType],
            body: ResponseBody(byteBuffer: response.body))
    }
}
