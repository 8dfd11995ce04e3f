import ChatRooms
import Foundation
import HTTPTypes
import Synchronization
@_spi(Node) import RoomRuntime
import RoomTesting
import RoomServer
import TestSupport
import Testing

@testable import RoomServer

@Suite("Clients that stop reading", .watched)
struct SlowClientTests {
    @Test(
        "a client that stops reading is dropped once it falls behind; reading again later, it finds the frames sent before and then the 1013 close; the others are not slowed"
    )
    func stalledClientIsDropped() async throws {
        // A relay room: large frames and no commits, so that the buffers fill with little work.
        let server = try await TestServer.start { configuration in
            configuration.maxQueuedFrames = 16
            configuration.runtime.kinds["relay"] = try! RoomKind(name: "relay", roomClass: RoomClass(RelayRoom.self))
        }
        // A raw socket with a tiny receive buffer, which reads the 101 and then nothing for a while.
        let stalled = try await RawConnection.webSocket(
            port: server.port, path: "/rooms/relay/slow/ws?user=slow", receiveBufferSize: 2048)
        defer { stalled.close() }
        let sender = try await server.socket("/rooms/relay/slow/ws?user=fast")
        try await sender.waitFor(1, "welcome")
        let padding = String(repeating: "x", count: 60_000)
        // Up to 24 MB: far more than the socket buffers (loopback grows them to megabytes), the
        // channel's write buffer and 16 queued frames. It stops once the stalled client is dropped.
        let total = 400
        for batch in 0..<(total / 5) where server.server.sockets.closing == 0 {
            for index in 0..<5 { sender.send(#"{"type":"blob","n":\#(batch * 5 + index),"pad":"\#(padding)"}"#) }
            // The sender is in the room: its own frames come back to it, at its own pace.
            try await sender.waitFor(batch * 5 + 5, "blob")
        }
        #expect(server.server.sockets.closing == 1, "the stalled client was not dropped")

        // The stalled client reads again, later than the close handshake timeout (3 s).
        try await Task.sleep(for: .seconds(4))
        let (bytes, _) = await stalled.read(timeout: .seconds(30)) { bytes in
            RawWebSocketFrame.parseAll(bytes).contains { $0.opcode == RawWebSocketFrame.close }
        }
        let frames = RawWebSocketFrame.parseAll(bytes)
        let close = frames.last.flatMap { $0.opcode == RawWebSocketFrame.close ? $0 : nil }
        #expect(close != nil, "no close frame after \(frames.count) frames (\(bytes.count) bytes)")
        #expect(close?.closeCode == 1013)
        #expect(close?.closeReason == "slow_consumer")
        let texts = frames.filter { $0.opcode == RawWebSocketFrame.text }.map {
            (try? JSONSerialization.jsonObject(with: Data($0.payload))) as? [String: Any] ?? [:]
        }
        #expect(texts.first?["type"] as? String == "welcome")
        // Every frame sent before the close arrives, in order, with no gap; the rest were dropped.
        let numbers = texts.filter { $0["type"] as? String == "blob" }.compactMap { $0["n"] as? Int }
        #expect(!numbers.isEmpty)
        #expect(numbers == Array(0..<numbers.count), "\(numbers.prefix(5)) ... \(numbers.suffix(5))")
        #expect(numbers.count < total, "the client was not dropped")

        // It answers the close; the server ends the connection.
        stalled.send(RawWebSocketFrame.clientClose(code: 1013))
        let (_, closed) = await stalled.read(timeout: .seconds(15))
        #expect(closed)
        try await eventually("the stalled socket is closed") { server.server.sockets.count == 1 }
        try await sender.close()
        try await server.stopAndRemove()
    }
    @Test(
        "a client that floods without reading: once its queue overflows, the server stops reading it (its writes stop at the socket buffers, not at the server's discarding speed) and, its close written, cuts it after two messages' worth more"
    )
    func floodingClientIsNotReadWhileItsCloseWaits() async throws {
        let server = try await TestServer.start { configuration in
            configuration.maxQueuedFrames = 16
        }
        // Never reads: every ack piles up.
        let flooder = try await RawConnection.webSocket(
            port: server.port, path: "/rooms/chat/flood/ws?user=flooder", receiveBufferSize: 2048)
        defer { flooder.close() }
        let frame = RawWebSocketFrame.client(
            RawWebSocketFrame.text, Array(#"{"type":"send","text":"\#(String(repeating: "f", count: 4_000))"}"#.utf8),
            mask: [0, 0, 0, 0])
        try await eventually("the flooder is registered") { server.server.sockets.count == 1 }
        let written = Atomic(0)
        let stop = Atomic(false)
        let writer = Thread {
            // Blocks in `send` while TCP holds it back; fails once the server cut the connection.
            while !stop.load(ordering: .relaxed), flooder.send(frame) {
                written.add(frame.count, ordering: .relaxed)
            }
        }
        writer.start()
        defer { stop.store(true, ordering: .relaxed) }
        // The server cuts it: once its close is written and two messages' worth more arrived, or
        // at the drain deadline (30 s) if the close cannot be written.
        try await eventually("the flooder was cut", timeout: .seconds(60)) { server.server.sockets.count == 0 }
        stop.store(true, ordering: .relaxed)
        let bytes = written.load(ordering: .relaxed)
        // What the room took is stored; the rest was read and thrown away, or sat in the socket
        // buffers (loopback lets those grow to about 10 MB). Before the server stopped reading a
        // client it was closing, it read and threw away hundreds of MB of the flood.
        let last = try await server.http(.get, "/rooms/chat/flood/messages?before=1000000000&limit=1")
        let stored = ((last.json["messages"] as? [[String: Any]])?.last?["seq"] as? Int) ?? 0
        #expect(stored > 0)
        let unstored = bytes - stored * frame.count
        #expect(unstored < 16_000_000, "\(unstored / 1_000_000) MB of the flood were read and dropped, or buffered")
        stop.store(true, ordering: .relaxed)
        flooder.close()
        try await server.stopAndRemove()
    }
}
