import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
@_spi(Node) import RoomCluster
@_spi(Node) import RoomRuntime

/// The HTTP side of the protocol (docs/PROTOCOL.md): health, room info, the WebSocket route for
/// plain requests, and every other room route, handed to the room's `onRequest` hook.
struct RoomRoutes: Sendable {
    let runtime: RoomRuntime
    let gatekeeper: Gatekeeper
    let maxBodyBytes: Int
    /// Whether the node is shutting down (health turns 503).
    let isStopping: @Sendable () -> Bool
    /// The metrics in Prometheus text format.
    let metrics: @Sendable () -> ByteBuffer
    /// `GET /rooms/{kind}/{id}/events`.
    let eventStreams: EventStreamRoute
    /// `GET /rooms/{kind}/{id}/messages?wait=SECONDS`.
    let longPolls: LongPolls
    /// The cluster's control plane, nil for a node that runs alone.
    let cluster: ControlPlane?

    /// The methods a room's `onRequest` hook can receive.
    static let roomMethods: [HTTPRequest.Method] = [.get, .post, .put, .patch, .delete]

    func register(on router: Hummingbird.Router<BasicRequestContext>) {
        // Outermost: even a refusal carries the CORS headers a browser needs to read it.
        router.add(middleware: CORSPolicyMiddleware(gatekeeper: gatekeeper))
        router.add(middleware: RoomErrorMiddleware())
        router.get("/healthz") { _, _ in
            try json(isStopping() ? ["status": "stopping"] : ["status": "ok"], status: isStopping() ? 503 : 200)
        }
        router.get("/metrics") { request, _ in
            try gatekeeper.requireAdmin(await authenticate(request))
            return Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: ResponseBody(byteBuffer: metrics()))
        }
        router.get("/rooms") { request, _ in
            try gatekeeper.requireAdmin(await authenticate(request))
            let query = Gatekeeper.withoutToken(RoomPath.query(request.uri))
            let known: Set = ["kind", "prefix", "limit", "cursor", "user"]
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
            guard let cluster else {
                return try json(
                    runtime.listRooms(kind: query["kind"], prefix: query["prefix"] ?? "", cursor: query["cursor"], limit: limit))
            }
            // In a cluster, every node's rooms (as copied about once a second).
            return try json(
                await runtime.listRooms(kind: query["kind"], prefix: query["prefix"] ?? "", cursor: query["cursor"], limit: limit) {
                    try await cluster.listRooms(kind: $0, prefix: $1, after: $2, limit: $3)
                })
        }
        router.get("/cluster") { request, _ -> Response in
            try gatekeeper.requireAdmin(await authenticate(request))
            guard let cluster else { return try json(ClusterAnswer(cluster: false, node: nil, nodes: [])) }
            do {
                let nodes = try await cluster.nodes()
                return try json(ClusterAnswer(cluster: true, node: cluster.node.id, nodes: nodes.map(ClusterAnswer.Node.init)))
            } catch {
                throw RoomError.unavailable(.roomUnavailable, "the cluster's control plane did not answer: \((error as? ClusterError)?.message ?? "an unexpected error")")
            }
        }
        router.get("/rooms/{kind}/{id}") { request, context in
            let (caller, address) = try await room(request, context)
            if runtime.configuration.kinds[address.kind]?.access != .open {
                try await runtime.admit(try Self.requireUser(caller), to: address)
            }
            return try json(runtime.info(for: address))
        }
        router.post("/rooms/{kind}/{id}") { request, context -> Response in
            let (caller, address) = try await room(request, context)
            var request = request
            let body = try await request.collectBody(upTo: maxBodyBytes)
            return respond(try await runtime.createRoom(at: address, body: body, identity: caller.identity))
        }
        router.delete("/rooms/{kind}/{id}") { request, context -> Response in
            try gatekeeper.requireAdmin(await authenticate(request))
            let address = try address(context)
            guard try await runtime.delete(address) else {
                throw RoomError.notFound(.roomNotFound, "room \(address) does not exist")
            }
            return Response(status: .noContent)
        }
        router.get("/rooms/{kind}/{id}/owner") { request, context -> Response in
            let (_, address) = try await room(request, context)
            var answer = OwnerAnswer(kind: address.kind, id: address.id, cluster: cluster != nil, local: cluster == nil)
            guard let cluster else { return try json(answer) }
            do {
                switch try await cluster.owner(kind: address.kind, id: address.id) {
                case .mine(let epoch):
                    (answer.node, answer.url, answer.epoch, answer.local) = (cluster.node.id, cluster.node.address, epoch, true)
                case .elsewhere(let node, let url, let epoch):
                    (answer.node, answer.url, answer.epoch) = (node, url, epoch)
                case nil:
                    break
                }
            } catch {
                throw RoomError.unavailable(.roomUnavailable, "the cluster's control plane did not answer: \((error as? ClusterError)?.message ?? "an unexpected error")")
            }
            return try json(answer)
        }
        router.get("/rooms/{kind}/{id}/ws") { request, context -> Response in
            // Upgrade requests never get here unless refused: answer why, or say what is needed.
            _ = try await room(request, context)
            throw RoomError(
                .upgradeRequired, .upgradeRequired, "this route takes a WebSocket upgrade request on a new connection")
        }
        router.get("/rooms/{kind}/{id}/events") { request, context -> Response in
            let (caller, address) = try await room(request, context)
            let identity = try Self.requireUser(caller)
            guard !isStopping() else { throw RoomError.unavailable(.shuttingDown, "the server is shutting down") }
            try await runtime.admit(identity, to: address)
            return try eventStreams.response(
                for: identity, at: address, query: Gatekeeper.withoutToken(RoomPath.query(request.uri)),
                headers: request.headers)
        }
        for method in Self.roomMethods {
            router.on("/rooms/{kind}/{id}/**", method: method) { request, context in
                try await forward(request, context: context)
            }
        }
        router.get("/inbox") { request, _ -> Response in
            let identity = try Self.requireUser(try await authenticate(request))
            let inbox = try inboxAddress(of: identity)
            let query = Gatekeeper.withoutToken(RoomPath.query(request.uri))
            return respond(try await runtime.request(InboxRoutes.page(query: query, identity: identity), to: inbox))
        }
        for method in Self.roomMethods where method != .get {
            router.on("/inbox", method: method) { _, _ -> Response in
                throw RoomError(.methodNotAllowed, .methodNotAllowed, "/inbox takes GET")
            }
        }
        router.get("/inbox/ws") { request, _ -> Response in
            _ = try inboxAddress(of: try Self.requireUser(try await authenticate(request)))
            throw RoomError(
                .upgradeRequired, .upgradeRequired, "this route takes a WebSocket upgrade request on a new connection")
        }
        router.post("/direct/{kind}") { request, context -> Response in
            let caller = try await authenticate(request)
            var request = request
            let body = try await request.collectBody(upTo: maxBodyBytes)
            let (_, response) = try await runtime.openDirectRoom(
                kind: context.parameters.get("kind") ?? "", body: body, identity: caller.identity,
                authorize: { address throws(RoomError) in try gatekeeper.authorize(caller, for: address) })
            return respond(response)
        }
    }

    /// Who sent `request`.
    private func authenticate(_ request: Request) async throws(RoomError) -> Caller {
        try await gatekeeper.authenticate(
            authorization: request.headers[.authorization], query: RoomPath.query(request.uri))
    }

    /// The caller of a room route and the room, once the caller may reach it.
    private func room(_ request: Request, _ context: BasicRequestContext) async throws(RoomError) -> (Caller, RoomAddress) {
        let caller = try await authenticate(request)
        let address = try address(context)
        try gatekeeper.authorize(caller, for: address)
        return (caller, address)
    }

    /// The caller's inbox: always their own.
    private func inboxAddress(of identity: Identity) throws(RoomError) -> RoomAddress {
        guard runtime.kind(named: InboxRoutes.kind) != nil else {
            throw .notFound(.notFound, "this node keeps no inboxes")
        }
        return try RoomAddress(kind: InboxRoutes.kind, id: identity.user)
    }

    /// The caller's identity, which a members or direct room needs.
    static func requireUser(_ caller: Caller) throws(RoomError) -> Identity {
        guard let identity = caller.identity else {
            throw .badRequest(.invalidUser, "name the user: ?user=NAME")
        }
        return identity
    }

    private func address(_ context: BasicRequestContext) throws(RoomError) -> RoomAddress {
        try RoomPath.address(
            kind: Substring(context.parameters.get("kind") ?? ""), id: Substring(context.parameters.get("id") ?? ""),
            runtime: runtime)
    }

    private func forward(_ request: Request, context: BasicRequestContext) async throws -> Response {
        let (caller, address) = try await room(request, context)
        var path: [String] = []
        for component in context.parameters.getCatchAll() {
            guard let decoded = String(component).removingPercentEncoding else {
                throw RoomError.badRequest(.invalidPath, "the path is not valid percent-encoded UTF-8")
            }
            path.append(decoded)
        }
        var request = request
        let body = try await request.collectBody(upTo: maxBodyBytes)
        var query = Gatekeeper.withoutToken(RoomPath.query(request.uri))
        if request.method == .get, path == ["messages"], let seconds = try LongPolls.wait(in: query) {
            query["wait"] = nil
            let read = RoomRequest(method: "GET", path: path, query: query, body: body, identity: caller.identity)
            let after = query["after"].flatMap { Int64($0) } ?? 0
            return respond(try await longPolls.answer(read, at: address, after: after, seconds: seconds))
        }
        return respond(
            try await runtime.request(
                RoomRequest(method: request.method.rawValue, path: path, query: query, body: body, identity: caller.identity),
                to: address))
    }

    private func respond(_ response: RoomResponse) -> Response {
        Response(
            status: HTTPResponse.Status(code: response.status), headers: [.contentType: response.contentType],
            body: ResponseBody(byteBuffer: response.body))
    }

    private func json(_ value: some Encodable, status: Int = 200) throws -> Response {
        respond(try RoomResponse.json(value, status: status))
    }
}
