import Crypto
import Foundation
import NIOCore
import NIOPosix

/// A WebSocket server that is not DurableRooms: it accepts any upgrade, sends a fixed script of
/// frames (text or binary, whatever their content), then reads and ignores what comes until the
/// client goes. For what a client must survive: frames that are not JSON, of unknown types, ...
final class ScriptedWebSocketServer: Sendable {
    enum Frame: Sendable {
        case text(String)
        case binary([UInt8])
    }

    private let server: any Channel
    let port: Int

    private init(server: any Channel) {
        self.server = server
        self.port = server.localAddress?.port ?? 0
    }

    static func start(script: [Frame]) async throws -> ScriptedWebSocketServer {
        let server = try await LoopbackListener.start { child in try? await serve(child, script: script) }
        return ScriptedWebSocketServer(server: server)
    }

    func stop() async {
        try? await server.close()
    }

    private static func serve(_ child: NIOAsyncChannel<ByteBuffer, ByteBuffer>, script: [Frame]) async throws {
        try await child.executeThenClose { inbound, outbound in
            var iterator = inbound.makeAsyncIterator()
            var head = ""
            while !head.contains("\r\n\r\n"), let bytes = try await iterator.next() {
                head += String(buffer: bytes)
            }
            let key = head.split(separator: "\r\n").first { $0.lowercased().hasPrefix("sec-websocket-key:") }
                .map { $0.dropFirst("sec-websocket-key:".count).trimmingCharacters(in: .whitespaces) } ?? ""
            let accept = Data(Insecure.SHA1.hash(data: Data((key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").utf8)))
                .base64EncodedString()
            try await outbound.write(
                ByteBuffer(
                    string:
                        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: \(accept)\r\n\r\n"
                ))
            for frame in script {
                switch frame {
                case .text(let text): try await outbound.write(encode(opcode: 0x1, Array(text.utf8)))
                case .binary(let bytes): try await outbound.write(encode(opcode: 0x2, bytes))
                }
            }
            while try await iterator.next() != nil {}
        }
    }

    /// An unmasked final frame, as a server sends it.
    private static func encode(opcode: UInt8, _ payload: [UInt8]) -> ByteBuffer {
        var buffer = ByteBuffer()
        buffer.writeInteger(0x80 | opcode)
        if payload.count < 126 {
            buffer.writeInteger(UInt8(payload.count))
        } else {
            buffer.writeInteger(UInt8(126))
            buffer.writeInteger(UInt16(payload.count))
        }
        buffer.writeBytes(payload)
        return buffer
    }
}
