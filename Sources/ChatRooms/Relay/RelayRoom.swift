public import RoomRuntime

/// The `relay` room class: ephemeral rooms that rebroadcast every frame, verbatim, to every
/// connection in the room (the sender included).
///
/// Nothing is stored: a relay room has no file and is not listed, and what it relays is gone once
/// sent. Use it for what is only worth something live: cursors, typing indicators, presence pings,
/// game ticks. Text frames are relayed as text and binary frames as binary, byte for byte; the
/// runtime's own frames still apply (the `welcome` frame on connecting, `ping` answered by `pong`).
///
/// It is also what the benchmark harness's `--raw` mode measures against a plain WebSocket
/// broadcast server.
public final class RelayRoom: Room {
    public static let className = "relay"
    public static var isEphemeral: Bool { true }

    public init(options: NoOptions) {}

    public func onMessage(_ message: ClientMessage, from connection: RoomConnection, context: isolated RoomContext)
        async throws
    {
        switch message {
        case .text(let text):
            context.broadcast(.text(text))
        case .binary(let bytes):
            context.broadcast(.binary(bytes))
        }
    }
}
