import NIOCore
import NIOEmbedded
import NIOWebSocket
import TestSupport
import Testing

@testable import RoomBench

/// The harness reads WebSocket frames itself (LoadSocket): these feed it bytes as a server would
/// send them, cut and joined every way a socket's reads can cut and join them.
@Suite("rooms bench: the harness's own frame reader", .watched)
struct LoadSocketTests {
    /// A server frame (unmasked unless `mask`) with `payload`, its length in 7, 16 or 64 bits.
    func frame(_ opcode: UInt8, _ payload: [UInt8], mask: [UInt8]? = nil) -> [UInt8] {
        var bytes: [UInt8] = [0x80 | opcode]
        let maskBit: UInt8 = mask == nil ? 0 : 0x80
        if payload.count < 126 {
            bytes.append(maskBit | UInt8(payload.count))
        } else if payload.count <= 0xFFFF {
            bytes.append(maskBit | 126)
            bytes += [UInt8(payload.count >> 8), UInt8(payload.count & 0xFF)]
        } else {
            bytes.append(maskBit | 127)
            bytes += (0..<8).reversed().map { UInt8((payload.count >> ($0 * 8)) & 0xFF) }
        }
        guard let mask else { return bytes + payload }
        return bytes + mask + payload.enumerated().map { $0.element ^ mask[$0.offset % 4] }
    }

    func message(stamp: UInt64, size: Int = 40) -> [UInt8] {
        Array(#"{"type":"message","seq":1,"text":"\#(Stamp.text(size: size, at: stamp))"}"#.utf8)
    }

    func measuring(_ mode: LoadSocket.Mode) throws -> (EmbeddedChannel, LoadSocket) {
        let stats = LoopStats()
        stats.measuring = true
        let socket = LoadSocket(stats: stats, mode: mode)
        let channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.addHandler(WebSocketFrameEncoder())
        try channel.pipeline.syncOperations.addHandler(socket)
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 9)).wait()
        #expect(channel.isActive)
        return (channel, socket)
    }

    func feed(_ channel: EmbeddedChannel, _ bytes: [UInt8]) throws {
        try channel.writeInbound(ByteBuffer(bytes: bytes))
    }

    @Test("frames joined in one read, and frames cut across two reads at the header and all along the payload, are each counted once")
    func joinedAndCut() throws {
        let (channel, socket) = try measuring(.chat)
        let stamp = Stamp.now
        let three = frame(0x1, message(stamp: stamp)) + frame(0x1, message(stamp: stamp, size: 300))
            + frame(0x1, message(stamp: stamp, size: 70_000))
        try feed(channel, three)
        #expect(socket.stats.deliveries == 3)
        for cut in 1..<three.count where cut % 97 == 0 || cut < 12 {
            try feed(channel, Array(three[..<cut]))
            try feed(channel, Array(three[cut...]))
        }
        let cuts = (1..<three.count).filter { $0 % 97 == 0 || $0 < 12 }.count
        #expect(socket.stats.deliveries == 3 + 3 * cuts)
        #expect(socket.stats.errors == 0)
        #expect(channel.isActive)
    }

    @Test("an ack releases the sender, an error frame counts as an error, a masked frame is unmasked")
    func ackErrorMasked() throws {
        let (channel, socket) = try measuring(.chat)
        var acks = 0
        socket.onAcknowledged = { acks += 1 }
        try feed(channel, frame(0x1, Array(#"{"type":"ack","id":"b1","seq":4}"#.utf8)))
        try feed(channel, frame(0x1, Array(#"{"type":"error","code":"room_overloaded"}"#.utf8)))
        try feed(channel, frame(0x1, message(stamp: Stamp.now), mask: [0x12, 0x34, 0x56, 0x78]))
        #expect(acks == 1)
        #expect(socket.stats.acknowledged == 1)
        #expect(socket.stats.errors == 1)
        #expect(socket.stats.deliveries == 1)
    }

    @Test("a ping is answered with a pong carrying its data; a close frame closes the connection")
    func pingAndClose() throws {
        let (channel, _) = try measuring(.raw)
        try feed(channel, frame(0x9, Array("are you there".utf8)))
        let pong = try #require(try channel.readOutbound(as: ByteBuffer.self))
        #expect(pong.getInteger(at: pong.readerIndex, as: UInt8.self) == 0x8A)
        try feed(channel, frame(0x8, [0x03, 0xE8]))
        #expect(!channel.isActive)
    }

    @Test("a frame longer than the harness accepts is an error and closes the connection")
    func oversize() throws {
        let (channel, socket) = try measuring(.raw)
        var header: [UInt8] = [0x81, 127]
        header += (0..<8).reversed().map { UInt8(((LoadSocket.maxFrameSize + 1) >> ($0 * 8)) & 0xFF) }
        try feed(channel, header)
        #expect(socket.stats.errors == 1)
        #expect(!channel.isActive)
    }
}
