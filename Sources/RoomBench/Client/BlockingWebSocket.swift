#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A WebSocket client on a blocking POSIX socket, for the clients of `rooms bench slow` that
/// misbehave on purpose: one that stops reading, one that writes without ever reading.
///
/// Written by hand rather than on NIO like ``LoadSocket``: what these clients do is what an event
/// loop is built to prevent (a socket never read, with a receive buffer a few KiB small; a writer
/// blocked in `send` by TCP), and a thread per client says it plainly.
final class BlockingWebSocket: @unchecked Sendable {
    private let descriptor: Int32

    /// Connects to `host:port` with a receive buffer of `receiveBuffer` bytes (set before
    /// connecting, so that TCP's window starts that small) and upgrades on `path`.
    init(host: String, port: Int, path: String, receiveBuffer: Int32) throws {
        descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { throw BenchError("socket(): errno \(errno)") }
        // From here a throw runs deinit, which closes the socket: closing it here too could close
        // another socket given the same number meanwhile.
        var size = receiveBuffer
        setsockopt(descriptor, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        guard inet_pton(AF_INET, host == "localhost" ? "127.0.0.1" : host, &address.sin_addr) == 1 else {
            throw BenchError("\(host): not an IPv4 address")
        }
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard connected == 0 else {
            throw BenchError("connect to \(host):\(port): errno \(errno)")
        }
        let request =
            "GET \(path) HTTP/1.1\r\nHost: \(host):\(port)\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
        guard write(Array(request.utf8)) else {
            throw BenchError("\(path): the upgrade request could not be sent")
        }
        // The answer's head, a byte at a time: nothing after it is taken off the socket.
        var head: [UInt8] = []
        var byte: UInt8 = 0
        while !head.ends(with: [13, 10, 13, 10]) {
            guard recv(descriptor, &byte, 1, 0) == 1 else { break }
            head.append(byte)
        }
        guard head.starts(with: Array("HTTP/1.1 101".utf8)) else {
            throw BenchError("\(path): upgrade refused: \(String(decoding: head.prefix(80), as: UTF8.self))")
        }
    }

    deinit { if descriptor >= 0 { close(descriptor) } }

    /// Ends the connection from another thread, waking a `write` blocked on it.
    func abort() {
        shutdown(descriptor, Int32(SHUT_RDWR))
    }

    /// A masked text frame carrying `text` (the mask is fixed: the server cannot tell).
    static func textFrame(_ text: String) -> [UInt8] {
        let payload = Array(text.utf8)
        var frame: [UInt8] = [0x81]
        if payload.count < 126 {
            frame.append(0x80 | UInt8(payload.count))
        } else {
            frame += [0x80 | 126, UInt8(payload.count >> 8), UInt8(payload.count & 0xFF)]
        }
        let mask: [UInt8] = [0x37, 0xFA, 0x21, 0x3D]
        frame += mask
        frame += payload.enumerated().map { $0.element ^ mask[$0.offset % 4] }
        return frame
    }

    /// Writes every byte, blocking while TCP holds them back; false once the server has closed.
    func write(_ bytes: [UInt8]) -> Bool {
        var offset = 0
        while offset < bytes.count {
            let written = bytes[offset...].withUnsafeBytes { send(descriptor, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if written < 0, errno == EINTR { continue }
            guard written > 0 else { return false }
            offset += written
        }
        return true
    }

    /// Everything readable until the server's end of stream or `seconds` of silence, and whether
    /// the stream ended (the server closed or reset the connection).
    func drain(seconds: Int) -> (data: [UInt8], ended: Bool) {
        var timeout = timeval(tv_sec: seconds, tv_usec: 0)
        setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var data: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = chunk.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, 0) }
            if count < 0, errno == EINTR { continue }
            if count < 0, errno == EAGAIN || errno == EWOULDBLOCK { return (data, false) }
            guard count > 0 else { return (data, true) }
            data += chunk[0..<count]
        }
    }

    /// The server's frames in `data` (unmasked, as servers send): (opcode, payload).
    static func frames(in data: [UInt8]) -> [(opcode: UInt8, payload: ArraySlice<UInt8>)] {
        var frames: [(opcode: UInt8, payload: ArraySlice<UInt8>)] = []
        var index = 0
        while index + 2 <= data.count {
            let opcode = data[index] & 0x0F
            var length = Int(data[index + 1] & 0x7F)
            index += 2
            if length == 126 {
                guard index + 2 <= data.count else { break }
                length = Int(data[index]) << 8 | Int(data[index + 1])
                index += 2
            } else if length == 127 {
                guard index + 8 <= data.count else { break }
                length = data[index..<index + 8].reduce(0) { $0 << 8 | Int($1) }
                index += 8
            }
            guard index + length <= data.count else { break }
            frames.append((opcode, data[index..<index + length]))
            index += length
        }
        return frames
    }
}

extension Array where Element: Equatable {
    fileprivate func ends(with suffix: [Element]) -> Bool {
        count >= suffix.count && Array(self[(count - suffix.count)...]) == suffix
    }
}
