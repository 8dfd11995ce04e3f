import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A WebSocket client on a bare TCP socket, for what a well-behaved client library will not do:
/// write without ever reading, and read later what piled up.
final class RawWebSocket: @unchecked Sendable {
    // @unchecked Sendable: a test hands the socket from one task to the next, never using it from
    // two at once.
    let fd: Int32
    private var pending: [UInt8] = []

    /// Connects to `port`, sends the upgrade request for `path` and reads the `101` response.
    init(port: Int, path: String, receiveBuffer: Int32? = nil) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw TestFailure("socket() failed: \(errno)") }
        if var size = receiveBuffer {
            setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
        }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard connected == 0 else {
            Glibc.close(fd)
            throw TestFailure("connect failed: \(errno)")
        }
        let request =
            "GET \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
        _ = request.withCString { send(fd, $0, strlen($0), 0) }
        // Read the response head byte by byte, so that no frame after it is consumed.
        var head: [UInt8] = []
        while !head.suffix(4).elementsEqual([13, 10, 13, 10]) {
            var byte: UInt8 = 0
            guard recv(fd, &byte, 1, 0) == 1 else {
                Glibc.close(fd)
                throw TestFailure("no upgrade response: \(String(decoding: head, as: UTF8.self))")
            }
            head.append(byte)
        }
        guard String(decoding: head.prefix(12), as: UTF8.self) == "HTTP/1.1 101" else {
            Glibc.close(fd)
            throw TestFailure("upgrade refused: \(String(decoding: head, as: UTF8.self))")
        }
    }

    private var closed = false

    deinit {
        if !closed { Glibc.close(fd) }
    }

    /// Resets the connection (SO_LINGER 0, then close): the server's unread data is discarded,
    /// as when a client's machine goes away.
    func abort() {
        guard !closed else { return }
        closed = true
        var option = linger(l_onoff: 1, l_linger: 0)
        setsockopt(fd, SOL_SOCKET, SO_LINGER, &option, socklen_t(MemoryLayout<linger>.size))
        Glibc.close(fd)
    }

    /// A masked text frame holding `text` (RFC 6455 section 5.2).
    static func frame(_ text: String) -> [UInt8] {
        let payload = Array(text.utf8)
        var frame: [UInt8] = [0x81]
        if payload.count < 126 {
            frame.append(0x80 | UInt8(payload.count))
        } else if payload.count <= 0xFFFF {
            frame.append(0x80 | 126)
            frame += [UInt8(payload.count >> 8), UInt8(payload.count & 0xFF)]
        } else {
            frame.append(0x80 | 127)
            frame += (0..<8).reversed().map { UInt8((payload.count >> ($0 * 8)) & 0xFF) }
        }
        let mask: [UInt8] = [0x12, 0x34, 0x56, 0x78]
        frame += mask
        frame += payload.enumerated().map { $0.element ^ mask[$0.offset % 4] }
        return frame
    }

    /// Sends `text` and reads until a frame mentioning `"type":"<type>"` arrives; returns how long
    /// that took, or nil after `timeout`. Blocks the calling thread.
    func roundTrip(_ text: String, until type: String, timeout: Duration = .seconds(10)) -> Duration? {
        let started = ContinuousClock.now
        let seen = texts.count
        let frame = Self.frame(text)
        _ = frame.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        let needle = #""type":"\#(type)""#
        while ContinuousClock.now - started < timeout {
            var descriptor = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            _ = poll(&descriptor, 1, 50)
            readAvailable()
            if texts.dropFirst(seen).contains(where: { $0.contains(needle) }) { return ContinuousClock.now - started }
        }
        return nil
    }

    /// Waits (at most `timeout`) until the socket can take more bytes.
    func waitUntilWritable(timeout: Duration) {
        var descriptor = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
        _ = poll(&descriptor, 1, Int32(timeout.components.seconds * 1000 + timeout.components.attoseconds / 1_000_000_000_000_000))
    }

    /// Writes what the socket takes without blocking; returns the number of bytes written, 0 when
    /// the socket's buffer is full, and nil once the connection is closed.
    func writeSome(_ bytes: ArraySlice<UInt8>) -> Int? {
        let written = bytes.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT | MSG_NOSIGNAL)) }
        if written >= 0 { return written }
        return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : nil
    }

    /// The text frames read so far and the close code, if a close frame arrived.
    private(set) var texts: [String] = []
    private(set) var closeCode: UInt16?

    /// Reads what has arrived, without blocking; with `parsing` false, only keeps the bytes (a
    /// later read parses them).
    func readAvailable(parsing: Bool = true) {
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let count = recv(fd, &buffer, buffer.count, Int32(MSG_DONTWAIT))
            guard count > 0 else { break }
            pending += buffer[0..<count]
        }
        if parsing { parse() }
    }

    /// Reads until the peer closes or nothing arrives for `quiet`; returns every text frame read
    /// and the close code, if a close frame arrived.
    func readAll(quiet: Duration = .seconds(2)) -> (texts: [String], closeCode: UInt16?) {
        var timeout = timeval(tv_sec: Int(quiet.components.seconds), tv_usec: Int(quiet.components.attoseconds / 1_000_000_000_000))
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let count = recv(fd, &buffer, buffer.count, 0)
            guard count > 0 else { break }
            pending += buffer[0..<count]
        }
        parse()
        return (texts, closeCode)
    }

    /// Moves the complete frames of `pending` into `texts` and `closeCode`.
    private func parse() {
        var offset = 0
        while offset + 2 <= pending.count {
            let opcode = pending[offset] & 0x0F
            var length = Int(pending[offset + 1] & 0x7F)
            var header = 2
            if length == 126 {
                guard offset + 4 <= pending.count else { break }
                length = Int(pending[offset + 2]) << 8 | Int(pending[offset + 3])
                header = 4
            } else if length == 127 {
                guard offset + 10 <= pending.count else { break }
                length = (2..<10).reduce(0) { $0 << 8 | Int(pending[offset + $1]) }
                header = 10
            }
            guard offset + header + length <= pending.count else { break }
            let payload = pending[(offset + header)..<(offset + header + length)]
            if opcode == 0x1 { texts.append(String(decoding: payload, as: UTF8.self)) }
            if opcode == 0x8, payload.count >= 2 {
                closeCode = UInt16(payload[payload.startIndex]) << 8 | UInt16(payload[payload.startIndex + 1])
            }
            offset += header + length
        }
        pending.removeFirst(offset)
    }
}
