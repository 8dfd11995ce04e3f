import DequeModule
import HTTPTypes
import Hummingbird
import NIOCore
@_spi(Node) import RoomRuntime

/// `GET /rooms/{kind}/{id}/events`: the room as a Server-Sent Events stream (docs/PROTOCOL.md,
/// "Server-Sent Events").
///
/// The stream is a connection of the room, exactly as a WebSocket is (presence, `connections`,
/// resume with `after`/`epoch`, the same `welcome` and frames), and stays open while the room
/// hibernates. It only receives: clients post with `POST .../messages`. `Last-Event-ID` (which a
/// browser's `EventSource` sends when it reconnects) stands for `?after=` when the query has none.
struct EventStreamRoute: Sendable {
    let runtime: RoomRuntime
    /// The node's open connections: a shutdown closes streams with the sockets.
    let connections: SocketRegistry
    /// The most frames queued for one stream (`server.maxQueuedFrames`).
    let maxQueuedFrames: Int
    /// How often a quiet stream sends a `: keep-alive` comment (`server.sseKeepAliveSeconds`).
    let keepAlive: Duration

    static let lastEventID = HTTPField.Name("Last-Event-ID")!

    /// The stream for `identity` on the room at `address`, which connects to the room once the
    /// response is being written; `query` is the request's, without its token.
    ///
    /// - Throws: ``RoomError`` `invalid_query` for a bad `after`, `epoch` or `Last-Event-ID`, and
    ///   nothing is connected then. A refusal when connecting (the node began shutting down) ends
    ///   the stream with an `error` and a `close` event.
    func response(
        for identity: Identity, at address: RoomAddress, query: [String: String], headers: HTTPFields
    ) throws(RoomError) -> Response {
        var resume = query
        if resume["after"] == nil, let lastEventID = headers[Self.lastEventID] {
            resume["after"] = lastEventID
        }
        do {
            try ResumePoint.validate(resume)
        } catch {
            throw .badRequest(
                .invalidQuery, "'after' (or Last-Event-ID) must be a sequence number, and 'epoch' as a welcome gave it")
        }
        let parameters = resume
        let keepAlive = keepAlive
        let runtime = runtime
        let connections = connections
        let limit = maxQueuedFrames
        var headers: HTTPFields = [.contentType: "text/event-stream; charset=utf-8", .cacheControl: "no-cache"]
        // Proxies such as nginx buffer responses unless told not to.
        headers[HTTPField.Name("X-Accel-Buffering")!] = "no"
        return Response(
            status: .ok, headers: headers,
            body: ResponseBody { writer in
                // Connected here, once the response is being written, so that a connection is
                // always disconnected by the `defer` below. What connecting refuses now (the node
                // began shutting down, the room is unavailable) ends the stream as it would end a
                // WebSocket: an `error` event, then `close`.
                let transport = EventStreamTransport(limit: limit)
                let handle: ConnectionHandle
                do throws(RoomError) {
                    guard connections.add(transport) else {
                        throw .unavailable(.shuttingDown, "the server is shutting down")
                    }
                    do throws(RoomError) {
                        handle = try runtime.connect(
                            to: address, identity: identity, parameters: parameters, transport: transport)
                    } catch {
                        connections.remove(transport)
                        throw error
                    }
                } catch {
                    try await writer.write(EventStreamFormat.encode(ErrorFrame.frame(for: error)))
                    try await writer.write(
                        EventStreamFormat.close(code: CloseCode(closingFor: error), reason: error.code.rawValue))
                    try await writer.finish(nil)
                    return
                }
                let ticker = Task {
                    while !Task.isCancelled {
                        try? await Task.sleep(for: keepAlive)
                        transport.keepAlive()
                    }
                }
                defer {
                    ticker.cancel()
                    transport.end()
                    handle.disconnect()
                    connections.remove(transport)
                }
                // Everything queued goes out in one write (see EventStreamTransport).
                var closed = false
                while !closed, let items = await transport.next() {
                    var events = ByteBuffer()
                    for item in items {
                        switch item {
                        case .frame(let frame):
                            EventStreamFormat.write(frame, to: &events)
                        case .keepAlive:
                            events.writeImmutableBuffer(EventStreamFormat.keepAlive)
                        case .close(let code, let reason):
                            events.writeImmutableBuffer(EventStreamFormat.close(code: code, reason: reason))
                            closed = true
                        }
                    }
                    try await writer.write(events)
                }
                try await writer.finish(nil)
            })
    }
}
