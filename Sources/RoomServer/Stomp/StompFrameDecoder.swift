package import NIOCore
@_spi(Node) package import RoomRuntime

/// Reads STOMP frames from one WebSocket message (STOMP 1.2, "Augmented BNF"): every message
/// holds whole frames, one or more, with heart-beat line ends between them or alone.
///
/// Written by hand: no STOMP library is among the packages this project builds with, and the
/// grammar is small. What it refuses, with the code an `ERROR` frame then carries:
///
/// - `invalid_frame`: no line end after the command, a header line without `:`, an escape STOMP
///   does not define (`\t`), text that is not UTF-8, a body without its NUL, a `content-length`
///   whose byte after the body is not NUL or that runs past the message, more than
///   ``maxHeaders`` headers or ``maxHeaderBytes`` of them;
/// - `invalid_header`: a `content-length` that is not a number;
/// - `payload_too_large`: a body over the node's `server.maxFrameBytes`.
package struct StompFrameDecoder {
    /// Why a message was refused, and the `receipt` of the frame that was, when it was read.
    package struct Failure: Error {
        package var error: RoomError
        package var receipt: String?
    }

    /// The most headers one frame may have.
    package static let maxHeaders = 64
    /// The most bytes a frame's command and headers may take.
    package static let maxHeaderBytes = 16_384

    /// The largest body, in bytes.
    package let maxBodyBytes: Int
    /// The negotiated version (nil before `CONNECT`): 1.1 and 1.2 escape headers.
    package var version: StompVersion?

    package init(maxBodyBytes: Int, version: StompVersion? = nil) {
        self.maxBodyBytes = maxBodyBytes
        self.version = version
    }

    /// The frames in `message`, in order, and the failure that stopped reading, if one did (the
    /// frames before it are whole and valid).
    package func decode(_ message: ByteBuffer) -> (frames: [StompFrame], failure: Failure?) {
        message.withUnsafeReadableBytes { bytes in
            var frames: [StompFrame] = []
            var index = 0
            while true {
                // Line ends between frames are heart-beats.
                while index < bytes.count {
                    if bytes[index] == 0x0A {
                        index += 1
                    } else if bytes[index] == 0x0D, index + 1 < bytes.count, bytes[index + 1] == 0x0A {
                        index += 2
                    } else {
                        break
                    }
                }
                guard index < bytes.count else { return (frames, nil) }
                do throws(Failure) {
                    frames.append(try frame(in: bytes, at: &index))
                } catch {
                    return (frames, error)
                }
            }
        }
    }

    private func frame(in bytes: UnsafeRawBufferPointer, at index: inout Int) throws(Failure) -> StompFrame {
        let start = index
        guard let command = line(in: bytes, at: &index) else {
            throw Self.invalid("the frame ends before its command line does")
        }
        guard let command = String(validating: UnsafeRawBufferPointer(rebasing: bytes[command]), as: UTF8.self),
            !command.isEmpty
        else {
            throw Self.invalid("a frame starts with a command line of UTF-8 text")
        }
        let escaped = (version?.escapesHeaders ?? false) && !StompFrame.hasRawHeaders(command)
        var frame = StompFrame(command)
        while true {
            guard let header = line(in: bytes, at: &index) else {
                throw Self.invalid("the frame ends inside its headers: they end with an empty line", frame: frame)
            }
            if header.isEmpty { break }
            guard frame.headers.count < Self.maxHeaders, index - start <= Self.maxHeaderBytes else {
                throw Self.invalid(
                    "a frame has at most \(Self.maxHeaders) headers and \(Self.maxHeaderBytes) bytes of them", frame: frame)
            }
            guard let colon = bytes[header].firstIndex(of: UInt8(ascii: ":")) else {
                throw Self.invalid("a header line is name:value; one has no ':'", frame: frame)
            }
            let name = try text(bytes[header.lowerBound..<colon], escaped: escaped, frame: frame)
            let value = try text(bytes[(colon + 1)..<header.upperBound], escaped: escaped, frame: frame)
            frame.headers.append(StompFrame.Header(name: name, value: value))
        }
        let end: Int
        if let length = frame["content-length"] {
            guard let count = Int(length), count >= 0, length.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else {
                throw Failure(
                    error: .badRequest(.invalidHeader, "content-length must be a number of bytes"), receipt: frame["receipt"])
            }
            guard count <= maxBodyBytes else { throw tooLarge(frame) }
            guard count < bytes.count - index else {
                throw Self.invalid("the frame ends before its content-length of \(count) bytes and its NUL do", frame: frame)
            }
            end = index + count
            guard bytes[end] == 0 else {
                throw Self.invalid("the byte after a body of content-length \(count) must be NUL", frame: frame)
            }
        } else {
            guard let nul = bytes[index...].firstIndex(of: 0) else {
                throw Self.invalid("a frame ends with a NUL byte; this one has none", frame: frame)
            }
            guard nul - index <= maxBodyBytes else { throw tooLarge(frame) }
            end = nul
        }
        frame.body = ByteBuffer(bytes: UnsafeRawBufferPointer(rebasing: bytes[index..<end]))
        index = end + 1
        return frame
    }

    /// The next line from `index` without its line end (`\n` or `\r\n`), moving past it; nil when
    /// no line end follows.
    private func line(in bytes: UnsafeRawBufferPointer, at index: inout Int) -> Range<Int>? {
        guard let newline = bytes[index...].firstIndex(of: 0x0A) else { return nil }
        var end = newline
        // 1.0 and 1.1 end lines with \n only, but a \r before it is never meant as content.
        if end > index, bytes[end - 1] == 0x0D { end -= 1 }
        defer { index = newline + 1 }
        return index..<end
    }

    /// A header name or value as text, unescaped when `escaped`.
    private func text(_ bytes: Slice<UnsafeRawBufferPointer>, escaped: Bool, frame: StompFrame) throws(Failure) -> String {
        guard escaped, bytes.contains(0x5C) else {
            guard let text = String(validating: UnsafeRawBufferPointer(rebasing: bytes), as: UTF8.self) else {
                throw Self.invalid("headers are UTF-8 text", frame: frame)
            }
            return text
        }
        var unescaped: [UInt8] = []
        unescaped.reserveCapacity(bytes.count)
        var index = bytes.startIndex
        while index < bytes.endIndex {
            let byte = bytes[index]
            index += 1
            guard byte == 0x5C else {
                unescaped.append(byte)
                continue
            }
            guard index < bytes.endIndex else { throw Self.invalid("a header ends with a lone '\\'", frame: frame) }
            switch bytes[index] {
            case UInt8(ascii: "n"): unescaped.append(0x0A)
            case UInt8(ascii: "c"): unescaped.append(0x3A)
            case 0x5C: unescaped.append(0x5C)
            case UInt8(ascii: "r") where version == .v1_2: unescaped.append(0x0D)
            default:
                throw Self.invalid("a header has an escape STOMP does not define (\\n, \\r, \\c and \\\\ are)", frame: frame)
            }
            index += 1
        }
        guard let text = String(validating: unescaped, as: UTF8.self) else {
            throw Self.invalid("headers are UTF-8 text", frame: frame)
        }
        return text
    }

    private func tooLarge(_ frame: StompFrame) -> Failure {
        Failure(
            error: RoomError(.tooLarge, .payloadTooLarge, "a frame's body is at most \(maxBodyBytes) bytes (server.maxFrameBytes)"),
            receipt: frame["receipt"])
    }

    private static func invalid(_ message: String, frame: StompFrame? = nil) -> Failure {
        Failure(error: .badRequest(.invalidFrame, message), receipt: frame?["receipt"])
    }
}
