import Logging
@_spi(Node) import RoomRuntime
import ServiceLifecycle

/// The first service to hear of a graceful shutdown (it is listed last): it stops the node in the
/// order the protocol promises, before the HTTP server and the runtime's own service stop.
///
/// 1. New connections, frames and requests are refused (`shutting_down`).
/// 2. Rooms finish the turns already queued; their acks and broadcasts go out, then the rooms
///    snapshot, run their hibernate hooks and close their files (``RoomRuntime/shutdown(within:)``).
///    Rooms get most of the shutdown timeout for this; what is still queued after it is refused.
/// 3. Every WebSocket and event stream is closed with 1001 after the frames queued for it, and the node waits
///    (each client has the close timeout to answer) until they are all closed, or at most the
///    shutdown timeout.
///
/// Closing sockets here, rather than leaving it to the WebSocket handler, is what makes the close
/// code 1001 (going away): the handler would close them with 1000.
///
/// In a cluster, between 2 and 3 the node releases its rooms (every file is closed by then), and
/// closes the sockets with 1012 (service restart): their clients reconnect at once, to any node,
/// and find the rooms free to take.
struct ShutdownGate: Service {
    let server: RoomServer

    func run() async throws {
        try? await gracefulShutdown()
        server.beginShutdown()
        await server.runtime.shutdown(within: server.configuration.shutdownTimeout * 0.6)
        if let cluster = server.cluster {
            await cluster.leave()
            server.sockets.closeAll(code: .serviceRestart, reason: "node handing over: reconnect now")
        } else {
            server.sockets.closeAll(code: .goingAway, reason: "server shutting down")
        }
        // Each socket closes within its close timeout; one still open after the whole shutdown
        // timeout is one the node lost track of, and must not keep the process alive.
        if !(await server.sockets.waitUntilEmpty(within: server.configuration.shutdownTimeout)) {
            server.logger.warning(
                "shutdown: sockets still open after the shutdown timeout; stopping without them",
                metadata: ["sockets": "\(server.sockets.count)"])
        }
        server.links?.closeAll()
    }
}
