import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A WebSocket client on a bare TCP socket that blocks its calling thread, for what a
/// well-behaved client library will not do: write without ever reading, read later what piled
/// up, or be measured from a thread of its own. (``RawConnection`` is its async sibling.)
final class RawWebSocket: @unchecked Sendable {
    // @unchecked Sendable: a test hands the socket from one thread to the next, never using it
    // from two at once.
    let fd: Int32
    private var pending: [UInt8] = []
    private var closed = false

    /// Connects to `port`, sends the upgrade request for `path` and reads the `101` response.
    init(port: Int, path: String) throws {
        fd = try RawConnection.openSocket(port: port)
        let request =
            "GET \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
        _ = request.withCString { send(fd, $0, strlen($0), 0) }
        // Read the response head byte by byte, so that no frame after it is consumed.
        var head: [UInt8] = []
        while !head.suffix(4).elementsEqual([13, 10, 13, 10]) {
            var byte: UInt8 = 0
            guard recv(fd, &byte, 1, 0) == 1 else {
                throw TestFailure("no upgrade response: \(String(decoding: head, as: UTF8.self))")
            }
            head.append(byte)
        }
        guard String(decoding: head.prefix(12), as: UTF8.self) == "HTTP/1.1 101" else {
            throw TestFailure("upgrade refused: \(String(decoding: head, as: UTF8.self))")
        }
    }

    // Also runs when init throws once `fd` is set, which is why init never closes it: a second
    // close could close another socket given the same number meanwhile (seen as EBADF in NIO).
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

    /// A masked text frame holding `text` (`cheap`: with a key of zeros, quick to make in bulk).
    static func frame(_ text: String, cheap: Bool = false) -> [UInt8] {
        RawWebSocketFrame.client(RawWebSocketFrame.text, Array(text.utf8), mask: cheap ? [0, 0, 0, 0] : [0x12, 0x34, 0x56, 0x78])
    }

    /// The text frames read so far.
    var texts: [String] {
        RawWebSocketFrame.parseAll(pending).filter { $0.opcode == RawWebSocketFrame.text }.map(\.text)
    }

    /// Reads what has arrived, without blocking.
    func readAvailable() {
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let count = recv(fd, &buffer, buffer.count, Int32(MSG_DONTWAIT))
            guard count > 0 else { break }
            pending += buffer[0..<count]
        }
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
}
