import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore

/// A DurableRooms server listening on a loopback port: in this process or a child process.
protocol ServerEndpoint: Sendable {
    var port: Int { get }
}

extension ServerEndpoint {
    /// Sends one HTTP request on a new connection.
    func http(
        _ method: HTTPRequest.Method, _ path: String, body: String? = nil, headers: HTTPFields = [:]
    ) async throws -> HTTPResult {
        try await TestClient.withClient(host: "127.0.0.1", port: port) { client in
            let response = try await client.execute(
                TestClient.Request(
                    path, method: method, authority: "127.0.0.1:\(port)", headers: headers,
                    body: body.map { ByteBuffer(string: $0) }))
            return HTTPResult(
                status: response.status.code, body: response.body.map { String(buffer: $0) } ?? "",
                headers: response.headers)
        }
    }

    /// Connects a WebSocket client to `path`, sending `headers` with the upgrade request.
    func socket(_ path: String, headers: HTTPFields = [:]) async throws -> TestSocket {
        try await TestSocket.connect(url: "ws://127.0.0.1:\(port)\(path)", headers: headers)
    }

    /// Sends a WebSocket upgrade request that the server is expected to refuse, and returns the
    /// refusal.
    func refusedUpgrade(_ path: String, headers: HTTPFields = [:]) async throws -> HTTPResult {
        var fields = headers
        fields[.connection] = "Upgrade"
        fields[.upgrade] = "websocket"
        fields[.secWebSocketKey] = "dGhlIHNhbXBsZSBub25jZQ=="
        fields[.secWebSocketVersion] = "13"
        return try await http(.get, path, headers: fields)
    }
}
