import Logging
@_spi(Node) import RoomRuntime
import Synchronization

/// This node's links to the other nodes of its cluster, one per node, opened when a room that
/// node owns is first asked for here: the runtime's ``RoomForwarder``.
///
/// The links authenticate with the cluster's secret (``LinkToken``), which is known once the node
/// joined (``setSecret(_:)``); until then no route is given, and rooms other nodes own are refused
/// with `room_unavailable`.
final class NodeLinks: RoomForwarder {
    private struct State {
        var links: [String: NodeLink] = [:]
        /// The routes given, by room, so that a room's next activation here needs no lookup.
        var routes: [RoomAddress: LinkRoute] = [:]
        var token: LinkToken?
        var closed = false
    }

    /// This node's ID, which its links present.
    let node: String
    /// The largest WebSocket message a link writes (the nodes' `server.maxFrameBytes`).
    let maxMessageBytes: Int
    private let logger: Logger
    private let state = Mutex(State())

    init(node: String, maxMessageBytes: Int, logger: Logger) {
        self.node = node
        self.maxMessageBytes = maxMessageBytes
        var logger = logger
        logger[metadataKey: "component"] = "links"
        self.logger = logger
    }

    /// The cluster's link secret, read from the control plane once the node joined.
    func setSecret(_ secret: [UInt8]) {
        state.withLock { $0.token = LinkToken(secret: secret) }
    }

    /// The token links to this node must present (nil before the node joined).
    var token: LinkToken? { state.withLock { $0.token } }

    func route(to node: String, url: String, for address: RoomAddress) -> (any RoomRoute)? {
        guard node != self.node else { return nil }
        let (link, fresh): (NodeLink?, Bool) = state.withLock { state in
            guard !state.closed, let token = state.token else { return (nil, false) }
            if let link = state.links[node], link.url == url, link.isOpen { return (link, false) }
            let link = NodeLink(
                node: node, url: url, authorization: token.header(node: self.node), maxMessageBytes: maxMessageBytes,
                logger: logger
            ) { [weak self] ended in
                self?.state.withLock { state in
                    if state.links[ended.node] === ended { state.links[ended.node] = nil }
                }
            }
            state.links[node] = link
            return (link, true)
        }
        if fresh { logger.info("link to a node opening", metadata: ["node": "\(node)", "url": "\(url)"]) }
        guard let link else { return nil }
        let route = LinkRoute(link: link, address: address)
        state.withLock { state in
            // Bounded: past this many rooms, the cache starts again (a lookup each).
            if state.routes.count >= Self.maxKnownRoutes { state.routes.removeAll() }
            state.routes[address] = route
        }
        return route
    }

    /// The most routes remembered.
    static let maxKnownRoutes = 100_000

    func knownRoute(for address: RoomAddress) -> (any RoomRoute)? {
        state.withLock { state in
            guard let route = state.routes[address] else { return nil }
            guard route.isOpen else {
                state.routes[address] = nil
                return nil
            }
            return route
        }
    }

    /// Ends every link (the node stops): what they carried is closed with 1012.
    func closeAll() {
        let links: [NodeLink] = state.withLock { state in
            state.closed = true
            state.routes.removeAll()
            defer { state.links.removeAll() }
            return Array(state.links.values)
        }
        for link in links { link.end("this node is stopping") }
    }
}
