import NIOCore
import NIOWebSocket

/// One benchmark WebSocket connection: a channel handler that reads frames on its event loop,
/// takes the timestamp out of every benchmark message, and records it in its loop's stats.
///
/// It reads the frames itself, straight from the socket's bytes, in place of NIO's
/// `WebSocketFrameDecoder` (which the upgrade installs and ``LoadClient`` removes): a frame is then
/// a few header bytes and a search in its payload, with no frame value, no `NIOAny` and no handler
/// hop per frame. The harness shares two cores with the server it measures, and every microsecond
/// it spends per delivery is taken from the server (`rooms bench` under-measured fan-out by a
/// quarter against wsload, written in C, while its one thread was 65 % busy).
///
/// In chat mode a message's stamp is at the start of its `"text"`; an `ack` frame counts as an
/// acknowledgement for the sender. In raw mode the whole frame starts with the stamp, and a
/// sender's own frame coming back is its acknowledgement.
final class LoadSocket: ChannelInboundHandler, RemovableChannelHandler, @unchecked Sendable {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = WebSocketFrame

    enum Mode: Sendable {
        /// Chat frames: stamps in `message` texts, `ack` acknowledges.
        case chat
        /// Raw frames starting with their stamp; the sender's own frame acknowledges.
        case raw
        /// AI rooms: stamps in `ai.delta` texts (from the local provider), `ai.end` acknowledges.
        case ai
        /// Document rooms: edits (`op`) with stamped inserts, `op.ack` acknowledges; see
        /// ``DocumentEditor``.
        case document
    }

    let stats: LoopStats
    let mode: Mode
    /// Called on the loop when this connection's own message is acknowledged.
    var onAcknowledged: (() -> Void)?
    /// Called on the loop for every text frame, before it is counted (for scenarios that look at
    /// other frames, such as `ai.delta`).
    var onText: ((UnsafeRawBufferPointer) -> Void)?
    private(set) var channel: (any Channel)?
    private var sequence = 0
    /// In document mode, what this connection knows of the document.
    private(set) var editor = DocumentEditor()
    /// Bytes of a frame not complete yet.
    private var pending: ByteBuffer?
    /// The largest frame accepted; a bigger one is an error (as the decoder's limit was).
    static let maxFrameSize = 1 << 20

    private static let textKey = Array(#""text":""#.utf8)
    private static let ackType = Array(#""type":"ack""#.utf8)
    private static let errorType = Array(#""type":"error""#.utf8)
    private static let deltaType = Array(#""type":"ai.delta""#.utf8)
    private static let endType = Array(#""type":"ai.end""#.utf8)
    private static let docType = Array(#""type":"doc""#.utf8)
    private static let opType = Array(#""type":"op""#.utf8)
    private static let opAckType = Array(#""type":"op.ack""#.utf8)
    private static let insertKey = Array(#""insert":""#.utf8)

    init(stats: LoopStats, mode: Mode) {
        self.stats = stats
        self.mode = mode
    }

    func handlerAdded(context: ChannelHandlerContext) {
        channel = context.channel
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var incoming = unwrapInboundIn(data)
        if var pending = self.pending {
            self.pending = nil
            pending.writeBuffer(&incoming)
            incoming = pending
        }
        while let frame = Self.nextFrame(in: &incoming) {
            guard let frame else {
                if stats.measuring { stats.errors += 1 }
                context.close(promise: nil)
                return
            }
            handle(frame, context: context)
        }
        if incoming.readableBytes > 0 {
            incoming.discardReadBytes()
            pending = incoming
        }
    }

    /// A frame's header fields and its payload, still in the read buffer.
    private struct Frame {
        let opcode: UInt8
        let payload: ByteBuffer
    }

    /// The next complete frame at the start of `buffer`, consumed; nil when more bytes are
    /// needed (nothing consumed), `.some(nil)` for a frame larger than ``maxFrameSize``.
    private static func nextFrame(in buffer: inout ByteBuffer) -> Frame?? {
        let start = buffer.readerIndex
        guard let first = buffer.getInteger(at: start, as: UInt8.self),
            let second = buffer.getInteger(at: start + 1, as: UInt8.self)
        else { return nil }
        var offset = start + 2
        var length = Int(second & 0x7F)
        if length == 126 {
            guard let extended = buffer.getInteger(at: offset, as: UInt16.self) else { return nil }
            length = Int(extended)
            offset += 2
        } else if length == 127 {
            guard let extended = buffer.getInteger(at: offset, as: UInt64.self) else { return nil }
            guard extended <= UInt64(maxFrameSize) else { return .some(nil) }
            length = Int(extended)
            offset += 8
        }
        guard length <= maxFrameSize else { return .some(nil) }
        var maskKey: WebSocketMaskingKey?
        if second & 0x80 != 0 {
            guard let key = buffer.getBytes(at: offset, length: 4) else { return nil }
            maskKey = WebSocketMaskingKey(key)
            offset += 4
        }
        guard var payload = buffer.getSlice(at: offset, length: length) else { return nil }
        buffer.moveReaderIndex(to: offset + length)
        if let maskKey { payload.webSocketUnmask(maskKey) }
        return .some(Frame(opcode: first & 0x0F, payload: payload))
    }

    private func handle(_ frame: Frame, context: ChannelHandlerContext) {
        switch frame.opcode {
        case 0x1:  // text
            frame.payload.withUnsafeReadableBytes { bytes in
                onText?(bytes)
                handleText(bytes)
            }
        case 0x9:  // ping
            let pong = WebSocketFrame(fin: true, opcode: .pong, maskKey: .random(), data: frame.payload)
            context.writeAndFlush(wrapOutboundOut(pong), promise: nil)
        case 0x8:  // close
            if stats.measuring { stats.errors += 1 }
            context.close(promise: nil)
        default:
            break
        }
    }

    private func handleText(_ bytes: UnsafeRawBufferPointer) {
        switch mode {
        case .ai:
            if Stamp.offset(after: Self.deltaType, in: bytes) != nil {
                if let start = Stamp.offset(after: Self.textKey, in: bytes), let stamp = Stamp.parse(bytes, from: start) {
                    stats.record(latencyMicros: Stamp.now &- stamp)
                }
            } else if Stamp.offset(after: Self.endType, in: bytes) != nil {
                if stats.measuring, onAcknowledged != nil { stats.acknowledged += 1 }
                onAcknowledged?()
            } else if Stamp.offset(after: Self.errorType, in: bytes) != nil {
                if stats.measuring { stats.errors += 1 }
            }
            return
        case .document:
            if Stamp.offset(after: Self.opType, in: bytes) != nil {
                editor.applied(bytes)
                if let start = Stamp.offset(after: Self.insertKey, in: bytes), let stamp = Stamp.parse(bytes, from: start) {
                    stats.record(latencyMicros: Stamp.now &- stamp)
                } else if stats.measuring {
                    stats.deliveries += 1
                }
            } else if Stamp.offset(after: Self.opAckType, in: bytes) != nil {
                editor.acknowledged(bytes)
                if stats.measuring { stats.acknowledged += 1 }
                onAcknowledged?()
            } else if Stamp.offset(after: Self.docType, in: bytes) != nil {
                editor.loaded(bytes)
            } else if Stamp.offset(after: Self.errorType, in: bytes) != nil {
                if stats.measuring { stats.errors += 1 }
                editor.refused()
                onAcknowledged?()
            }
            return
        case .raw:
            guard let stamp = Stamp.parse(bytes, from: 0) else { return }
            stats.record(latencyMicros: Stamp.now &- stamp)
        case .chat:
            if let start = Stamp.offset(after: Self.textKey, in: bytes), let stamp = Stamp.parse(bytes, from: start) {
                stats.record(latencyMicros: Stamp.now &- stamp)
            } else if Stamp.offset(after: Self.ackType, in: bytes) != nil {
                if stats.measuring { stats.acknowledged += 1 }
                onAcknowledged?()
                return
            } else if Stamp.offset(after: Self.errorType, in: bytes) != nil {
                if stats.measuring { stats.errors += 1 }
            }
            return
        }
        // Raw mode: a sender's own frame coming back acknowledges it.
        if onAcknowledged != nil {
            if stats.measuring { stats.acknowledged += 1 }
            onAcknowledged?()
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if stats.measuring { stats.errors += 1 }
        context.close(promise: nil)
    }

    /// Sends one stamped message of `size` bytes of text (call on the channel's event loop).
    func sendMessage(size: Int) {
        guard let channel else { return }
        sequence += 1
        let text = Stamp.text(size: size)
        let payload: String
        switch mode {
        case .raw: payload = text
        case .chat: payload = #"{"type":"send","id":"b\#(sequence)","text":"\#(text)"}"#
        case .ai: payload = #"{"type":"ai.prompt","id":"b\#(sequence)","text":"\#(text)"}"#
        case .document:
            guard editor.loaded, !editor.awaiting else { return }
            payload = editor.edit(id: sequence, stamp: text)
        }
        var buffer = channel.allocator.buffer(capacity: payload.utf8.count)
        buffer.writeString(payload)
        if stats.measuring { stats.sent += 1 }
        channel.writeAndFlush(
            NIOAny(WebSocketFrame(fin: true, opcode: .text, maskKey: .random(), data: buffer)), promise: nil)
    }

    /// Sends `text` as it is (call on the channel's event loop).
    func send(text: String) {
        guard let channel else { return }
        var buffer = channel.allocator.buffer(capacity: text.utf8.count)
        buffer.writeString(text)
        channel.writeAndFlush(
            NIOAny(WebSocketFrame(fin: true, opcode: .text, maskKey: .random(), data: buffer)), promise: nil)
    }
}
