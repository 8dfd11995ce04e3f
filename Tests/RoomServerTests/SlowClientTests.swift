import Foundation
import RoomTesting
import RoomServer
import Testing

#if canImport(Glibc)
import Glibc
#endif

@testable import RoomServer

@Suite("Clients that stop reading")
struct SlowClientTests {
    /// Opens a WebSocket on a raw TCP socket with a tiny receive buffer, reads the 101, and never
    /// reads again.
    func stalledSocket(port: Int, path: String) throws -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var size: Int32 = 2048
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard connected == 0 else { throw TestFailure("connect failed") }
        let request =
            "GET \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
        _ = request.withCString { send(fd, $0, strlen($0), 0) }
        var buffer = [UInt8](repeating: 0, count: 129)
        let count = recv(fd, &buffer, 129, 0)
        guard count > 12, String(decoding: buffer[0..<12], as: UTF8.self) == "HTTP/1.1 101" else {
            throw TestFailure("no 101")
        }
        return fd
    }

    @Test("a client that stops reading is dropped once it falls behind; the others are not slowed")
    func stalledClientIsDropped() async throws {
        let server = try await TestServer.start { $0.maxQueuedFrames = 16 }
        let stalled = try stalledSocket(port: server.port, path: "/rooms/chat/slow/ws?user=slow")
        defer { close(stalled) }
        let sender = try await server.socket("/rooms/chat/slow/ws?user=fast")
        try await sender.waitFor(1, "welcome")
        let text = String(repeating: "x", count: 4_000)
        for batch in 0..<400 {
            for index in 0..<5 { sender.send(json: ["type": "send", "id": "m\(batch)-\(index)", "text": text]) }
            try await sender.waitFor(batch * 5 + 5, "ack")
        }
        try await eventually("the stalled socket is closed") { server.server.sockets.count == 1 }
        try await sender.close()
        try await server.stopAndRemove()
    }
}
