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
                TestClient.Request(path, method: method, headers: headers, body: body.map { ByteBuffer(string: $0) }))
            return HTTPResult(status: response.status.code, body: response.body.map { String(buffer: $0) } ?? "")
        }
    }

    /// Connects a WebSocket client to `path`.
    func socket(_ path: String) async throws -> TestSocket {
        try await TestSocket.connect(url: "ws://127.0.0.1:\(port)\(path)")
    }
}
