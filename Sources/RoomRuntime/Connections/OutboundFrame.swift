import Foundation
public import NIOCore

/// A frame on its way to clients, encoded once.
///
/// Broadcasting a frame shares its payload buffer among every recipient: encode once, send many.
public struct OutboundFrame: Sendable {
    /// Whether the payload is UTF-8 text or bytes.
    public enum Opcode: Sendable, Equatable {
        case text
        case binary
    }

    /// Text or binary.
    public var opcode: Opcode
    /// The encoded payload.
    public var payload: ByteBuffer

    public init(opcode: Opcode, payload: ByteBuffer) {
        self.opcode = opcode
        self.payload = payload
    }

    /// A text frame holding `text`.
    public static func text(_ text: String) -> OutboundFrame {
        OutboundFrame(opcode: .text, payload: ByteBuffer(string: text))
    }

    /// A binary frame holding `bytes`.
    public static func binary(_ bytes: ByteBuffer) -> OutboundFrame {
        OutboundFrame(opcode: .binary, payload: bytes)
    }

    /// A text frame holding `value` encoded as JSON, its keys in sorted order.
    ///
    /// Sorted, because Foundation's encoder on Linux writes an object's keys in no stable order:
    /// the same frame would read differently from one run to the next (and in no document).
    ///
    /// - Throws: ``RoomError`` `internal_error` when `value` cannot be encoded.
    public static func json(_ value: some Encodable) throws(RoomError) -> OutboundFrame {
        do {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            return OutboundFrame(opcode: .text, payload: ByteBuffer(bytes: try encoder.encode(value)))
        } catch {
            throw .internal("could not encode a frame: \(error)")
        }
    }

    /// The payload as text (for logs and tests).
    public var text: String { String(buffer: payload) }
}
