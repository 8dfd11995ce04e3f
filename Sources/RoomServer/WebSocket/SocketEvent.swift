import NIOCore
@_spi(Node) import RoomRuntime

/// What reaches a socket's ``WebSocketHandler`` through its channel's pipeline from other threads:
/// its ``Outbox`` (on shard threads), the room (when the client may send again) and the node's
/// heartbeat. Going through the pipeline keeps the handler's state on its event loop, with no lock
/// and no reference to the handler held anywhere else.
enum SocketEvent: Sendable {
    /// The room can take more of this client's messages.
    case resumeReading
    /// A close was queued behind frames the client has not read yet.
    case closeQueued
    /// Every frame before the close is written: send the close frame.
    case sendClose(CloseCode, String)
    /// The node's heartbeat: ping the client, or close it if it did not answer the last ping.
    case heartbeat

    /// Fires the event into `channel`'s pipeline, from any thread, always after the caller
    /// returns (callers may hold locks the handler's work takes again).
    func fire(on channel: any Channel) {
        channel.eventLoop.execute { channel.pipeline.fireUserInboundEventTriggered(self) }
    }
}
