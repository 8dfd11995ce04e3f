@_spi(Node) import RoomRuntime
import Synchronization

/// The way to one room over this node's ``NodeLink`` to the node that owns it.
///
/// It stays open while the link does, until the owner answers that it does not own the room
/// (any more): the runtime then asks the cluster again at the room's next event.
final class LinkRoute: RoomRoute {
    let link: NodeLink
    let address: RoomAddress
    private let stale = Atomic(false)

    init(link: NodeLink, address: RoomAddress) {
        self.link = link
        self.address = address
    }

    var isOpen: Bool { !stale.load(ordering: .relaxed) && link.isOpen }

    /// The owner said the room is not its own: the next event asks the cluster.
    func markStale() {
        stale.store(true, ordering: .relaxed)
    }

    func open(_ connection: RoomConnection) { link.open(connection, route: self) }
    func send(_ message: ClientMessage, of connection: RoomConnection) { link.send(message, of: connection) }
    func refresh(_ identity: Identity, of connection: RoomConnection) { link.refresh(identity, of: connection) }
    func close(_ connection: RoomConnection) { link.close(connection) }

    func request(_ request: RoomRequest, answer: @escaping @Sendable (Result<RoomResponse, RoomError>) -> Void) {
        link.request(request, to: address, route: self, answer: answer)
    }
}
