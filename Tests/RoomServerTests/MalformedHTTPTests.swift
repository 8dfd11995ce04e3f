import Foundation
import HTTPTypes
import RoomServer
import TestSupport
import Testing

/// Requests no HTTP client library would send, over raw TCP: each gets an answer with the
/// documented JSON error body, and the connection is closed within a bound.
@Suite("Malformed and slow HTTP over raw TCP", .watched)
struct MalformedHTTPTests {
    /// Bytes to send, with a name for the test report.
    struct Garbage: Sendable, CustomTestStringConvertible {
        let name: String
        let bytes: [UInt8]
        var testDescription: String { name }

        init(_ name: String, _ text: String) {
            self.name = name
            self.bytes = Array(text.utf8)
        }

        init(_ name: String, bytes: [UInt8]) {
            self.name = name
            self.bytes = bytes
        }
    }

    /// How long the server may take to answer and close; it is never slept, only a bound on a hang.
    static let bound = Duration.seconds(10)

    /// Sends `bytes` on a new connection and reads until the server closes it (or `bound` passes).
    static func exchange(_ bytes: [UInt8], port: Int) async throws -> (responses: [RawHTTPResponse], closed: Bool) {
        let connection = try RawConnection(port: port)
        defer { connection.close() }
        connection.send(bytes)
        let (received, closed) = await connection.read(timeout: bound)
        return (RawHTTPResponse.parseAll(received), closed)
    }

    static func expectRefused(_ response: RawHTTPResponse?, status: Int, code: String) {
        #expect(response?.status == status, "\(String(describing: response))")
        #expect(response?.errorCode == code, "\(String(describing: response))")
        #expect(response?.errorMessage?.isEmpty == false)
        #expect(response?.headers["content-type"] == "application/json")
        #expect(response?.headers["connection"] == "close")
    }

    @Test(
        "a request the parser refuses gets 400 malformed_request, and the connection is closed",
        arguments: [
            Garbage("lowercase method", "get / HTTP/1.1\r\nHost: x\r\n\r\n"),
            Garbage("unknown method", "FOO / HTTP/1.1\r\nHost: x\r\n\r\n"),
            Garbage("raw space in the path", "GET /rooms/chat/a b HTTP/1.1\r\nHost: x\r\n\r\n"),
            Garbage("control character in the path", "GET /rooms/chat/a\u{01}b HTTP/1.1\r\nHost: x\r\n\r\n"),
            Garbage("header without a colon", "GET /healthz HTTP/1.1\r\nHost x\r\n\r\n"),
            Garbage("bad Content-Length", "POST /rooms/chat/x/messages HTTP/1.1\r\nHost: x\r\nContent-Length: ten\r\n\r\n"),
            Garbage("a TLS client hello", bytes: [0x16, 0x03, 0x01, 0x00, 0xA5, 0x01, 0x00, 0x00, 0xA1, 0x03, 0x03, 0x00]),
            Garbage("binary garbage", bytes: (0..<64).map { UInt8(($0 * 37 + 11) % 256) }),
            Garbage("an upgrade request with a raw space", "GET /rooms/chat/a b/ws?user=ann HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n"),
        ])
    func refusedByTheParser(garbage: Garbage) async throws {
        let server = try await TestServer.start()
        let (responses, closed) = try await Self.exchange(garbage.bytes, port: server.port)
        #expect(responses.count == 1, "\(responses)")
        Self.expectRefused(responses.first, status: 400, code: "malformed_request")
        #expect(closed, "the server must close the connection")
        // The server still serves.
        #expect(try await server.http(.get, "/healthz").status == 200)
        try await server.stopAndRemove()
    }

    /// A first request naming an `Upgrade` that is no WebSocket handshake, and what it gets.
    struct NotAHandshake: Sendable, CustomTestStringConvertible {
        let name: String
        let request: String
        let status: Int
        let code: String?
        var testDescription: String { name }
    }

    @Test(
        "a first request that names an Upgrade but is no WebSocket handshake is answered as plain HTTP (it was closed with no answer, or a bare 400)",
        arguments: [
            NotAHandshake(
                name: "Upgrade: h2c, as curl --http2 sends",
                request: "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\n"
                    + "HTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n\r\n",
                status: 200, code: nil),
            NotAHandshake(
                name: "Upgrade: websocket without Connection: upgrade",
                request: "GET /healthz HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n\r\n", status: 200, code: nil),
            NotAHandshake(
                name: "a WebSocket handshake with a body",
                request: "GET /rooms/chat/a/ws?user=ann HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                    + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nContent-Length: 5\r\n\r\nhello",
                status: 426, code: "upgrade_required"),
            NotAHandshake(
                name: "a PUT naming Upgrade: websocket, with a body",
                request: "PUT /rooms HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nContent-Length: 5\r\n\r\nhello",
                status: 404, code: "not_found"),
            NotAHandshake(
                name: "a broken Transfer-Encoding beside Upgrade (found by the wire fuzzer)",
                request: "PUT /metrics HTTP/1.1\r\nHost: x\r\nTransfer-Encoding:\u{98}a chunked\r\nUpgrade: websocket\r\n\r\n",
                status: 404, code: "not_found"),
        ])
    func upgradeThatIsNoHandshake(_ request: NotAHandshake) async throws {
        let server = try await TestServer.start()
        let connection = try RawConnection(port: server.port)
        defer { connection.close() }
        connection.send(request.request)
        let (received, _) = await connection.read(timeout: Self.bound) { bytes in
            RawHTTPResponse.parseAll(bytes).count == 1
        }
        let responses = RawHTTPResponse.parseAll(received)
        #expect(responses.count == 1, "no answer: \(String(decoding: received, as: UTF8.self))")
        #expect(responses.first?.status == request.status, "\(responses)")
        if let code = request.code {
            #expect(responses.first?.errorCode == code, "\(responses)")
            #expect(responses.first?.headers["content-type"] == "application/json")
        }
        #expect(try await server.http(.get, "/healthz").status == 200)
        try await server.stopAndRemove()
    }

    @Test("a body with broken chunked encoding gets 400 malformed_request (not 500), stores nothing, and the connection is closed")
    func brokenChunkedBody() async throws {
        let server = try await TestServer.start()
        let request =
            "POST /rooms/chat/chunks/messages HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            + "Transfer-Encoding: chunked\r\n\r\n5\r\n{\"use\r\nzz\r\nr\": \"ann\"}\r\n0\r\n\r\n"
        let (responses, closed) = try await Self.exchange(Array(request.utf8), port: server.port)
        #expect(responses.count == 1, "\(responses)")
        Self.expectRefused(responses.first, status: 400, code: "malformed_request")
        #expect(closed, "the server must close the connection")
        #expect(try await server.http(.get, "/rooms/chat/chunks").json["lastSeq"] as? Int == 0)
        try await server.stopAndRemove()
    }

    @Test("garbage after a complete request: the request is answered, then 400 malformed_request, then the close")
    func garbageAfterARequest() async throws {
        let server = try await TestServer.start()
        let bytes = "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\nFOO / HTTP/1.1\r\nHost: x\r\n\r\n"
        let (responses, closed) = try await Self.exchange(Array(bytes.utf8), port: server.port)
        #expect(responses.map(\.status) == [200, 400], "\(responses)")
        #expect(responses.first?.json["status"] as? String == "ok")
        Self.expectRefused(responses.last, status: 400, code: "malformed_request")
        #expect(closed, "the server must close the connection")
        try await server.stopAndRemove()
    }

    @Test("a client that connects and sends nothing gets 408 request_timeout, and the connection is closed")
    func silentClient() async throws {
        let server = try await TestServer.start { $0.requestHeaderTimeout = .seconds(1) }
        let started = ContinuousClock.now
        let (responses, closed) = try await Self.exchange([], port: server.port)
        #expect(ContinuousClock.now - started >= .milliseconds(900))
        #expect(responses.count == 1, "\(responses)")
        Self.expectRefused(responses.first, status: 408, code: "request_timeout")
        #expect(closed, "the server must close the connection")
        try await server.stopAndRemove()
    }

    @Test("a client that sends its head a byte at a time is cut at the header timeout with 408")
    func slowHead() async throws {
        let server = try await TestServer.start { $0.requestHeaderTimeout = .seconds(1) }
        let connection = try RawConnection(port: server.port)
        defer { connection.close() }
        let started = ContinuousClock.now
        let head = Array("GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ".utf8) + Array(repeating: UInt8(ascii: "a"), count: 1_000)
        var received: [UInt8] = []
        var closed = false
        for byte in head {
            connection.send([byte])
            (received, closed) = await connection.read(timeout: .milliseconds(100)) { !$0.isEmpty }
            if !received.isEmpty || closed { break }
        }
        #expect(ContinuousClock.now - started < .seconds(60), "the head was never cut")
        if !closed {
            let rest = await connection.read(timeout: Self.bound)
            received += rest.bytes
            closed = rest.closed
        }
        #expect(ContinuousClock.now - started >= .milliseconds(900))
        let responses = RawHTTPResponse.parseAll(received)
        #expect(responses.count == 1, "\(responses)")
        Self.expectRefused(responses.first, status: 408, code: "request_timeout")
        #expect(closed, "the server must close the connection")
        try await server.stopAndRemove()
    }

    @Test("a keep-alive connection waits the idle timeout (not the header timeout) for its next request, then is closed")
    func keepAliveIdle() async throws {
        let server = try await TestServer.start {
            $0.requestHeaderTimeout = .seconds(1)
            $0.httpIdleTimeout = .seconds(5)
        }
        let connection = try RawConnection(port: server.port)
        defer { connection.close() }
        let request = "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
        let isComplete: @Sendable ([UInt8]) -> Bool = { RawHTTPResponse.parseAll($0).count == 1 }

        connection.send(request)
        let first = await connection.read(timeout: Self.bound, until: isComplete)
        #expect(RawHTTPResponse.parseAll(first.bytes).first?.status == 200)
        // Longer than the header timeout: a keep-alive connection between requests is not cut by it.
        try await Task.sleep(for: .seconds(2))
        connection.send(request)
        let second = await connection.read(timeout: Self.bound, until: isComplete)
        #expect(RawHTTPResponse.parseAll(second.bytes).first?.status == 200, "\(String(decoding: second.bytes, as: UTF8.self))")
        #expect(!second.closed)

        let idleFrom = ContinuousClock.now
        let (rest, closed) = await connection.read(timeout: .seconds(30))
        #expect(closed, "an idle keep-alive connection must be closed")
        #expect(rest.isEmpty, "nothing is sent to a connection closed for idleness")
        #expect(ContinuousClock.now - idleFrom >= .milliseconds(4_500))
        try await server.stopAndRemove()
    }

    @Test("a graceful shutdown closes connections that have no request in progress at once")
    func shutdownClosesWaitingConnections() async throws {
        let server = try await TestServer.start {
            $0.requestHeaderTimeout = .seconds(60)
            $0.shutdownTimeout = .seconds(60)
        }
        let silent = try RawConnection(port: server.port)
        defer { silent.close() }
        let partial = try RawConnection(port: server.port)
        defer { partial.close() }
        partial.send("GET /healthz HTTP/1.1\r\nHost: x\r\n")
        try await Task.sleep(for: .milliseconds(200))
        let started = ContinuousClock.now
        try await server.stopAndRemove()
        #expect(ContinuousClock.now - started < .seconds(30), "the shutdown waited for idle connections")
        for connection in [silent, partial] {
            let (bytes, closed) = await connection.read(timeout: Self.bound)
            #expect(closed)
            #expect(bytes.isEmpty, "\(String(decoding: bytes, as: UTF8.self))")
        }
    }
}
