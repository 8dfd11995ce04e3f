import RoomRuntime
import ServiceLifecycle

/// The first service to hear of a graceful shutdown (it is listed last): it stops new work and
/// closes every WebSocket with 1001 before the HTTP server and then the runtime stop.
///
/// Closing sockets here, rather than leaving it to the WebSocket handler, is what makes the close
/// code 1001 (going away): the handler would close them with 1000.
struct ShutdownGate: Service {
    let server: RoomServer

    func run() async throws {
        try? await gracefulShutdown()
        server.beginShutdown()
        server.sockets.closeAll(code: .goingAway, reason: "server shutting down")
        await server.sockets.waitUntilEmpty()
    }
}
