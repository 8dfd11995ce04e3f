import Foundation
import NIOCore
@_spi(Node) import RoomRuntime

/// One frame on a link between two nodes (docs/CLUSTER.md, "Forwarding"): a node forwards the
/// connections and requests of rooms another node owns over one WebSocket to that node, and every
/// frame names the forwarded connection (a *stream*) or request (a *call*) it belongs to.
///
/// A link is a stream of frames, cut into WebSocket binary messages as the sender likes; each frame
/// is `[length: u32][type: u8][id: u32]` then its fields; fields with structure are a length-prefixed JSON object (decoded with
/// Foundation: they travel once per connection or request), and the bytes of a message, a frame
/// or a body travel as they are (the hot path: nothing is re-encoded).
///
/// Written by hand, not as JSON or protobuf: the frames are few and fixed, their payloads are
/// already encoded bytes, and no library in the package mirror frames binary messages.
enum LinkFrame: Sendable {
    // From the forwarding node to the owner.
    /// A client connected to a room: stream `id`.
    case open(UInt32, Opening)
    /// A message of the client on stream `id`.
    case message(UInt32, ClientMessage)
    /// The client of stream `id` closed its socket.
    case close(UInt32)
    /// The client of stream `id` refreshed its token.
    case refresh(UInt32, WireIdentity)
    /// An HTTP request or a room's call: call `id`.
    case request(UInt32, Request, body: ByteBuffer)

    // From the owner back.
    /// A frame for the client of stream `id`.
    case frame(UInt32, OutboundFrame)
    /// Frames for the clients of several streams, each getting all of them in order (a room's
    /// broadcasts).
    case frames([UInt32], [OutboundFrame])
    /// The room closed stream `id`'s connection.
    case shut(UInt32, Shut)
    /// `count` messages of stream `id` were answered: the client may send as many more.
    case credit(UInt32, count: UInt32)
    /// The answer to call `id`.
    case response(UInt32, Response, body: ByteBuffer)
    /// Call `id` failed.
    case failure(UInt32, WireError)

    /// The largest frame a link accepts (a room's largest message or body, with room to spare).
    static let maxFrameBytes = 64 << 20

    struct Opening: Codable, Sendable {
        var kind: String
        var id: String
        var identity: WireIdentity
        var parameters: [String: String]
    }

    struct Request: Codable, Sendable {
        var kind: String
        var id: String
        var method: String
        var path: [String]
        var query: [String: String]
        var identity: WireIdentity?
        var caller: [String]?
        var purpose: RoomRequest.Purpose
        var longPoll: RoomRequest.LongPoll?
    }

    struct Response: Codable, Sendable {
        var status: Int
        var contentType: String
    }

    struct Shut: Codable, Sendable {
        var code: UInt16
        var reason: String
    }

    /// An ``Identity`` as the forwarding node verified it: the owner trusts it, as it trusts the
    /// link (see ``LinkToken``).
    struct WireIdentity: Codable, Sendable {
        var user: String
        var claims: [String: JSONValue]
        var verified: Bool
        var admin: Bool
        var expiresAt: Int64?

        init(_ identity: Identity) {
            user = identity.user
            claims = identity.claims
            verified = identity.isVerified
            admin = identity.isAdmin
            expiresAt = identity.expiresAt
        }

        var identity: Identity {
            Identity(user: user, claims: claims, isVerified: verified, isAdmin: admin, expiresAt: expiresAt)
        }
    }

    /// A ``RoomError`` on the wire.
    struct WireError: Codable, Sendable {
        var category: String
        var code: String
        var message: String
        var frameID: String?
        /// Set (true) when the answering node does not serve the room (any more), so the asking
        /// node asks the cluster again. Added after the link's first release: a peer without it
        /// says so in `message` alone (``RoomError/movedMessage``), which ``saysMoved`` reads too.
        var moved: Bool?

        init(_ error: RoomError) {
            category = Self.names.first { $0.value == error.category }?.key ?? "internal"
            code = error.code.rawValue
            message = error.message
            frameID = error.frameID
            moved = error.isMoved ? true : nil
        }

        /// Whether the answering node says the room moved: by the flag, or by the message of a
        /// peer that predates it. A message reworded in a later release cannot break this.
        var saysMoved: Bool { moved ?? error.isMoved }

        var error: RoomError {
            RoomError(Self.names[category] ?? .internal, RoomError.Code(rawValue: code), message, frameID: frameID)
        }

        private static let names: [String: RoomError.Category] = [
            "badRequest": .badRequest, "unauthorized": .unauthorized, "forbidden": .forbidden,
            "notFound": .notFound, "methodNotAllowed": .methodNotAllowed, "tooLarge": .tooLarge,
            "conflict": .conflict, "upgradeRequired": .upgradeRequired, "unavailable": .unavailable,
            "internal": .internal,
        ]
    }

    private enum Tag: UInt8 {
        case open = 1, message, close, refresh, request
        case frame = 16, shut, credit, response, failure, frames
    }

    // MARK: - Writing

    /// Appends the frame, length-prefixed, to `buffer`.
    func write(to buffer: inout ByteBuffer) {
        let start = buffer.writerIndex
        buffer.writeInteger(UInt32(0))
        switch self {
        case .open(let id, let opening):
            Self.head(.open, id, &buffer)
            Self.json(opening, &buffer)
        case .message(let id, let message):
            Self.head(.message, id, &buffer)
            switch message {
            case .text(let text):
                buffer.writeInteger(UInt8(1))
                buffer.writeString(text)
            case .binary(let bytes):
                buffer.writeInteger(UInt8(2))
                buffer.writeImmutableBuffer(bytes)
            }
        case .close(let id):
            Self.head(.close, id, &buffer)
        case .refresh(let id, let identity):
            Self.head(.refresh, id, &buffer)
            Self.json(identity, &buffer)
        case .request(let id, let request, let body):
            Self.head(.request, id, &buffer)
            Self.json(request, &buffer)
            buffer.writeImmutableBuffer(body)
        case .frame(let id, let frame):
            Self.head(.frame, id, &buffer)
            buffer.writeInteger(UInt8(frame.opcode == .text ? 1 : 2))
            buffer.writeImmutableBuffer(frame.payload)
        case .frames(let ids, let frames):
            Self.head(.frames, UInt32(ids.count), &buffer)
            for id in ids { buffer.writeInteger(id) }
            buffer.writeInteger(UInt32(frames.count))
            for frame in frames {
                buffer.writeInteger(UInt8(frame.opcode == .text ? 1 : 2))
                buffer.writeInteger(UInt32(frame.payload.readableBytes))
                buffer.writeImmutableBuffer(frame.payload)
            }
        case .shut(let id, let shut):
            Self.head(.shut, id, &buffer)
            Self.json(shut, &buffer)
        case .credit(let id, let count):
            Self.head(.credit, id, &buffer)
            buffer.writeInteger(count)
        case .response(let id, let response, let body):
            Self.head(.response, id, &buffer)
            Self.json(response, &buffer)
            buffer.writeImmutableBuffer(body)
        case .failure(let id, let error):
            Self.head(.failure, id, &buffer)
            Self.json(error, &buffer)
        }
        buffer.setInteger(UInt32(buffer.writerIndex - start - 4), at: start)
    }

    private static func head(_ tag: Tag, _ id: UInt32, _ buffer: inout ByteBuffer) {
        buffer.writeInteger(tag.rawValue)
        buffer.writeInteger(id)
    }

    private static func json(_ value: some Encodable, _ buffer: inout ByteBuffer) {
        // These types always encode (strings, numbers and JSON values only).
        let data = (try? JSONEncoder().encode(value)) ?? Data("{}".utf8)
        buffer.writeInteger(UInt32(data.count))
        buffer.writeBytes(data)
    }

    // MARK: - Reading

    /// A link frame that could not be read: the link is closed (a peer that sends garbage is not
    /// a node of this build).
    struct Malformed: Error, CustomStringConvertible {
        let description: String
    }

    /// The frames of a link, read from its WebSocket messages: the link is a stream of frames, and
    /// a frame may span messages (a sender cuts its stream into messages no larger than the
    /// receiver's frame limit).
    struct Reader {
        private var pending = ByteBuffer()

        /// The frames `message` completes, in order.
        ///
        /// - Throws: ``Malformed`` for a frame that is too long, of an unknown type or with
        ///   fields that do not decode.
        mutating func read(_ message: ByteBuffer) throws(Malformed) -> [LinkFrame] {
            var input: ByteBuffer
            if pending.readableBytes == 0 {
                input = message
            } else {
                var message = message
                pending.writeBuffer(&message)
                input = pending
            }
            var frames: [LinkFrame] = []
            while let length = input.getInteger(at: input.readerIndex, as: UInt32.self) {
                guard length >= 5, length <= LinkFrame.maxFrameBytes else {
                    throw Malformed(description: "a frame's length is wrong")
                }
                guard input.readableBytes >= 4 + Int(length) else { break }
                input.moveReaderIndex(forwardBy: 4)
                var frame = input.readSlice(length: Int(length))!
                frames.append(try LinkFrame.read(&frame))
            }
            if input.readableBytes == 0 {
                pending = ByteBuffer()
            } else {
                input.discardReadBytes()
                pending = input
            }
            return frames
        }
    }

    static func read(_ frame: inout ByteBuffer) throws(Malformed) -> LinkFrame {
        guard let raw = frame.readInteger(as: UInt8.self), let id = frame.readInteger(as: UInt32.self) else {
            throw Malformed(description: "a frame is shorter than its head")
        }
        guard let tag = Tag(rawValue: raw) else { throw Malformed(description: "unknown frame type \(raw)") }
        switch tag {
        case .open:
            return .open(id, try json(Opening.self, &frame))
        case .message:
            switch frame.readInteger(as: UInt8.self) {
            case 1: return .message(id, .text(frame.readString(length: frame.readableBytes) ?? ""))
            case 2: return .message(id, .binary(frame.readSlice(length: frame.readableBytes) ?? ByteBuffer()))
            default: throw Malformed(description: "a message is neither text nor binary")
            }
        case .close:
            return .close(id)
        case .refresh:
            return .refresh(id, try json(WireIdentity.self, &frame))
        case .request:
            let request = try json(Request.self, &frame)
            return .request(id, request, body: frame.readSlice(length: frame.readableBytes) ?? ByteBuffer())
        case .frame:
            let opcode = try self.opcode(&frame)
            return .frame(id, OutboundFrame(opcode: opcode, payload: frame.readSlice(length: frame.readableBytes) ?? ByteBuffer()))
        case .frames:
            // The head's id is the number of streams.
            guard Int(id) <= frame.readableBytes / 4 else { throw Malformed(description: "a broadcast names too many streams") }
            var ids: [UInt32] = []
            ids.reserveCapacity(Int(id))
            for _ in 0..<id {
                guard let stream = frame.readInteger(as: UInt32.self) else { throw Malformed(description: "a broadcast is truncated") }
                ids.append(stream)
            }
            guard let count = frame.readInteger(as: UInt32.self), Int(count) <= frame.readableBytes / 5 else {
                throw Malformed(description: "a broadcast's frames are truncated")
            }
            var frames: [OutboundFrame] = []
            frames.reserveCapacity(Int(count))
            for _ in 0..<count {
                let opcode = try self.opcode(&frame)
                guard let length = frame.readInteger(as: UInt32.self), let payload = frame.readSlice(length: Int(length)) else {
                    throw Malformed(description: "a broadcast's frame is truncated")
                }
                frames.append(OutboundFrame(opcode: opcode, payload: payload))
            }
            return .frames(ids, frames)
        case .shut:
            return .shut(id, try json(Shut.self, &frame))
        case .credit:
            guard let count = frame.readInteger(as: UInt32.self) else { throw Malformed(description: "a credit is truncated") }
            return .credit(id, count: count)
        case .response:
            let response = try json(Response.self, &frame)
            return .response(id, response, body: frame.readSlice(length: frame.readableBytes) ?? ByteBuffer())
        case .failure:
            return .failure(id, try json(WireError.self, &frame))
        }
    }

    /// A frame's opcode: 1 text, 2 binary.
    private static func opcode(_ frame: inout ByteBuffer) throws(Malformed) -> OutboundFrame.Opcode {
        switch frame.readInteger(as: UInt8.self) {
        case 1: return .text
        case 2: return .binary
        default: throw Malformed(description: "a frame is neither text nor binary")
        }
    }

    private static func json<T: Decodable>(_ type: T.Type, _ frame: inout ByteBuffer) throws(Malformed) -> T {
        guard let length = frame.readInteger(as: UInt32.self), let bytes = frame.readBytes(length: Int(length)) else {
            throw Malformed(description: "a frame's fields are truncated")
        }
        do {
            return try JSONDecoder().decode(T.self, from: Data(bytes))
        } catch {
            throw Malformed(description: "a frame's fields do not decode: \(error)")
        }
    }
}
