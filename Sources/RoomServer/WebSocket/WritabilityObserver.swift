import NIOCore

/// Tells an ``Outbox`` when its socket can take writes again.
final class WritabilityObserver: ChannelInboundHandler, RemovableChannelHandler, Sendable {
    typealias InboundIn = NIOAny

    private let outbox: Outbox

    init(outbox: Outbox) {
        self.outbox = outbox
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable { outbox.resume() }
        context.fireChannelWritabilityChanged()
    }
}
