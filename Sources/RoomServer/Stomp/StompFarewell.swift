import NIOCore
@_spi(Node) import RoomRuntime

/// A STOMP socket as the node's registry holds it: closing it (the node shutting down) sends an
/// `ERROR` (`message: shutting_down`, `x-close-code: 1001`), then closes the socket, so that a
/// STOMP client learns why, as it does when a room ends one of its subscriptions.
final class StompFarewell: OpenConnection {
    private let outbox: Outbox

    init(outbox: Outbox) {
        self.outbox = outbox
    }

    func send(_ frame: OutboundFrame) {
        outbox.send(frame)
    }

    func close(code: CloseCode, reason: String) {
        // The registry closes sockets for one reason, the node going away: its code is the message.
        let message = code == .goingAway ? RoomError.Code.shuttingDown.rawValue : reason
        let error = StompFrame.error(
            message, [("x-close-code", String(code.rawValue))],
            explanation: "the server closed the connection (\(reason))")
        outbox.send(StompApplication.frame(error, version: .v1_2))
        outbox.close(code: code, reason: reason)
    }

    var isClosing: Bool { outbox.isClosing }

    func heartbeat() {
        outbox.heartbeat()
    }
}
