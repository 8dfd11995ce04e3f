import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// A plain TCP connection to a loopback port, for what no HTTP or WebSocket client library sends:
/// malformed requests, heads sent a byte at a time, a client that stops reading.
///
/// Reads block on a thread of their own, never on the cooperative pool the server's tasks share.
final class RawConnection: @unchecked Sendable {
    private let fd: Int32
    private let closed = Mutex(false)
    /// Bytes read past what a caller consumed (after an HTTP head, for instance).
    private var leftover: [UInt8] = []

    /// Connects to `127.0.0.1:port`; `receiveBufferSize` shrinks the socket's receive buffer (set
    /// before connecting, so that the TCP window is small from the start).
    init(port: Int, receiveBufferSize: Int32? = nil) throws {
        fd = try Self.openSocket(port: port, receiveBufferSize: receiveBufferSize)
    }

    /// A TCP socket connected to `127.0.0.1:port`, its receive buffer shrunk to
    /// `receiveBufferSize` before connecting (so that the TCP window is small from the start).
    static func openSocket(port: Int, receiveBufferSize: Int32? = nil) throws -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw TestFailure("socket() failed: errno \(errno)") }
        if var size = receiveBufferSize {
            setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
        }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard connected == 0 else {
            let error = errno
            Glibc.close(fd)
            throw TestFailure("connect to port \(port) failed: errno \(error)")
        }
        return fd
    }

    deinit { close() }

    /// Opens a WebSocket to `path` and reads the server's 101; what follows it is kept for the
    /// next read.
    static func webSocket(port: Int, path: String, receiveBufferSize: Int32? = nil) async throws -> RawConnection {
        let connection = try RawConnection(port: port, receiveBufferSize: receiveBufferSize)
        connection.send(
            "GET \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
        let head = try await connection.readHead(timeout: .seconds(15))
        guard head.hasPrefix("HTTP/1.1 101") else { throw TestFailure("no 101: \(head)") }
        return connection
    }

    /// Closes the connection (once).
    func close() {
        let first = closed.withLock { closed in
            defer { closed = true }
            return !closed
        }
        if first { Glibc.close(fd) }
    }

    /// Sends `bytes`; false when the server has closed the connection (no SIGPIPE).
    @discardableResult
    func send(_ bytes: [UInt8]) -> Bool {
        var offset = 0
        while offset < bytes.count {
            let sent = bytes[offset...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard sent > 0 else { return false }
            offset += sent
        }
        return true
    }

    /// Sends `text` as UTF-8.
    @discardableResult
    func send(_ text: String) -> Bool { send(Array(text.utf8)) }

    /// Reads until the server closes the connection (a FIN or a reset), `enough` holds for what
    /// arrived, or `timeout` passes.
    ///
    /// - Returns: the bytes read, and whether the server closed the connection.
    func read(timeout: Duration, until enough: @escaping @Sendable ([UInt8]) -> Bool = { _ in false }) async
        -> (bytes: [UInt8], closed: Bool)
    {
        let start = leftover
        leftover = []
        let result = await withCheckedContinuation { (continuation: CheckedContinuation<([UInt8], Bool), Never>) in
            Thread { [fd] in
                continuation.resume(returning: Self.blockingRead(fd: fd, start: start, timeout: timeout, until: enough))
            }.start()
        }
        return (result.0, result.1)
    }

    /// Reads WebSocket frames until one matches `match`, the server closes the connection, or
    /// `timeout` passes. A frame cut short at the end waits for the next read.
    ///
    /// - Returns: the whole frames read, and whether the server closed the connection.
    func readFrames(timeout: Duration, until match: @escaping @Sendable (RawWebSocketFrame) -> Bool) async
        -> (frames: [RawWebSocketFrame], closed: Bool)
    {
        let (bytes, closed) = await read(timeout: timeout) { RawWebSocketFrame.parseAll($0).contains(where: match) }
        let (frames, consumed) = RawWebSocketFrame.parse(bytes)
        leftover = Array(bytes[consumed...])
        return (frames, closed)
    }

    /// Reads an HTTP response head (up to its blank line) and keeps what followed it for later reads.
    func readHead(timeout: Duration) async throws -> String {
        let (bytes, _) = await read(timeout: timeout) { $0.firstRange(of: Array("\r\n\r\n".utf8)) != nil }
        guard let range = bytes.firstRange(of: Array("\r\n\r\n".utf8)) else {
            throw TestFailure("no response head; got \(String(decoding: bytes, as: UTF8.self))")
        }
        leftover = Array(bytes[range.upperBound...])
        return String(decoding: bytes[..<range.upperBound], as: UTF8.self)
    }

    private static func blockingRead(fd: Int32, start: [UInt8], timeout: Duration, until enough: ([UInt8]) -> Bool)
        -> ([UInt8], Bool)
    {
        var bytes = start
        let deadline = ContinuousClock.now + timeout
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while !enough(bytes) {
            let left = deadline - ContinuousClock.now
            guard left > .zero else { return (bytes, false) }
            var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let milliseconds = Int32(min(left.components.seconds * 1000 + left.components.attoseconds / 1_000_000_000_000_000 + 1, 60_000))
            let ready = poll(&poller, 1, milliseconds)
            if ready < 0, errno == EINTR { continue }
            guard ready > 0 else { continue }
            let count = recv(fd, &buffer, buffer.count, 0)
            if count > 0 {
                bytes.append(contentsOf: buffer[0..<count])
            } else if count == 0 || (errno != EINTR && errno != EAGAIN) {
                return (bytes, true)
            }
        }
        return (bytes, false)
    }
}
