import Foundation
import NIOCore
@_spi(Node) import RoomRuntime
import Synchronization

/// One `SUBSCRIBE` of a STOMP connection: a connection of its room, whose frames become `MESSAGE`
/// frames on the connection's one ``Outbox`` (docs/PROTOCOL.md, "STOMP").
///
/// Every frame the room sends its connections is a `MESSAGE` with `x-type` (the frame's `type`)
/// and the frame's JSON as its body; a stored message's `message-id` is `{kind}/{id}/{seq}` and
/// it carries `x-seq`. The frames are written here, on the room's shard, as a WebSocket's would
/// be queued. A `receipt` on the `SUBSCRIBE` is answered right after the room's `welcome` (the
/// subscription is live; resumed messages follow). When the room ends the connection (deleted,
/// the user removed, the node stopping) the STOMP connection gets an `ERROR` with the room's
/// error and is closed with the room's close code: STOMP has no way to end one subscription.
final class StompSubscription: ConnectionTransport {
    /// How the client acknowledges messages (`ack` header of `SUBSCRIBE`). The server needs no
    /// acknowledgement (messages stay in the room's history): `ACK` and `NACK` are accepted and
    /// change nothing; `MESSAGE`s carry the `ack` header they name.
    enum AckMode: String, Sendable {
        case auto
        case client
        case clientIndividual = "client-individual"
    }

    let id: String
    let address: RoomAddress
    let destination: String
    let ackMode: AckMode
    let version: StompVersion
    private let outbox: Outbox

    private struct State {
        /// The `receipt` of the `SUBSCRIBE`, until the `welcome` answers it.
        var receipt: String?
        /// An `error` frame, held until it is known whether a close follows.
        var heldError: OutboundFrame?
        var numbered: UInt64 = 0
        var ended = false
    }

    private let state: Mutex<State>

    init(
        id: String, address: RoomAddress, ackMode: AckMode, version: StompVersion, receipt: String?, outbox: Outbox
    ) {
        self.id = id
        self.address = address
        self.destination = StompDestination.name(of: address)
        self.ackMode = ackMode
        self.version = version
        self.outbox = outbox
        self.state = Mutex(State(receipt: receipt))
    }

    func send(_ frame: OutboundFrame) {
        let fields = frame.opcode == .text ? frame.payload.withUnsafeReadableBytes { TopLevelFields(scanning: $0) } : nil
        // The room sends a connection an `error` before it closes it (a refused subscription): it
        // becomes the `ERROR`'s explanation. Otherwise it goes out before the next frame.
        let isError = fields?.type == "error"
        let step: (held: OutboundFrame?, receipt: String?, number: UInt64)? = state.withLock { state in
            guard !state.ended else { return nil }
            if isError {
                state.heldError = frame
                return (nil, nil, 0)
            }
            defer { state.heldError = nil }
            state.numbered += 1
            let receipt = fields?.type == "welcome" ? state.receipt : nil
            if receipt != nil { state.receipt = nil }
            return (state.heldError, receipt, state.numbered)
        }
        guard let step, !isError else { return }
        if let held = step.held {
            outbox.send(message(held, fields: held.payload.withUnsafeReadableBytes { TopLevelFields(scanning: $0) }, number: step.number))
        }
        outbox.send(message(frame, fields: fields, number: step.number))
        if let receipt = step.receipt {
            outbox.send(StompApplication.frame(StompFrame("RECEIPT", [("receipt-id", receipt)]), version: version))
        }
    }

    func close(code: CloseCode, reason: String) {
        let ending: (held: OutboundFrame?, receipt: String?)? = state.withLock { state in
            guard !state.ended else { return nil }
            state.ended = true
            return (state.heldError, state.receipt)
        }
        guard let ending else { return }
        var errorCode = reason
        var explanation = "the room ended the subscription (\(reason))"
        if let held = ending.held,
            let object = try? JSONSerialization.jsonObject(with: Data(held.payload.readableBytesView)) as? [String: Any]
        {
            if let code = object["code"] as? String { errorCode = code }
            if let message = object["message"] as? String { explanation = message }
        }
        let receiptID = ending.receipt.map { [("receipt-id", $0)] } ?? []
        let headers = receiptID + [("subscription", id), ("destination", destination), ("x-close-code", String(code.rawValue))]
        outbox.send(StompApplication.frame(.error(errorCode, headers, explanation: explanation), version: version))
        outbox.close(code: code, reason: reason)
    }

    /// Unsubscribed, or the connection ended: later frames are dropped.
    func end() {
        state.withLock { $0.ended = true }
    }

    /// The `MESSAGE` for `frame`, the `number`th this subscription sends.
    private func message(_ frame: OutboundFrame, fields: TopLevelFields?, number: UInt64) -> OutboundFrame {
        let isText = frame.opcode == .text
        var messageID = address.path + "/"
        var seq: Int64?
        if fields?.type == "message", let stored = fields?.seq {
            seq = stored
            messageID += String(stored)
        } else {
            messageID += "~" + String(number)
        }
        let body = frame.payload
        var buffer = ByteBuffer()
        buffer.reserveCapacity(body.readableBytes + destination.utf8.count * 2 + id.utf8.count + 160)
        buffer.writeStaticString("MESSAGE\n")
        let escape = version.escapesHeaders
        StompFrame.writeHeader("subscription", id, escape: escape, version: version, to: &buffer)
        StompFrame.writeHeader("message-id", messageID, escape: escape, version: version, to: &buffer)
        StompFrame.writeHeader("destination", destination, escape: escape, version: version, to: &buffer)
        if ackMode != .auto {
            StompFrame.writeHeader("ack", messageID, escape: escape, version: version, to: &buffer)
        }
        buffer.writeStaticString(isText ? "content-type:application/json\n" : "content-type:application/octet-stream\n")
        // A type with a line break (a frame a room wrote by hand) would break a 1.0 header.
        if let type = fields?.type, type.utf8.allSatisfy({ $0 >= 0x20 }) {
            StompFrame.writeHeader("x-type", type, escape: escape, version: version, to: &buffer)
        }
        if let seq {
            buffer.writeStaticString("x-seq:")
            buffer.writeString(String(seq))
            buffer.writeStaticString("\n")
        }
        buffer.writeStaticString("content-length:")
        buffer.writeString(String(body.readableBytes))
        buffer.writeStaticString("\n\n")
        var payload = body
        buffer.writeBuffer(&payload)
        buffer.writeInteger(UInt8(0))
        return OutboundFrame(opcode: isText ? .text : .binary, payload: buffer)
    }
}
