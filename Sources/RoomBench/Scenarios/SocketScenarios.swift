import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix

/// The scenarios made of WebSocket clients: `fanout`, `rooms`, `ai` and `doc`.
enum SocketScenarios {
    /// One room: `clients` listeners (WebSockets, or Server-Sent Events streams with
    /// `--listeners sse`) and one sender on a WebSocket.
    static func fanout(_ options: BenchOptions, target: BenchTarget, client: LoadClient) async throws -> BenchResult {
        let mode: LoadSocket.Mode = options.raw ? .raw : .chat
        let room = "fanout-\(UUID().uuidString.prefix(8))"
        let base = "/rooms/\(options.raw ? "relay" : "chat")/\(room)"
        if let node = options.placeVia { try await place(base, via: node, client: client) }
        switch options.listeners {
        case .websocket:
            _ = try await client.connect(options.clients, mode: mode) { "\(base)/ws?user=l\($0)" }
        case .sse:
            _ = try await client.openEventStreams(options.clients) { "\(base)/events?user=l\($0)" }
        case .stomp:
            // A STOMP MESSAGE carries the message frame's JSON as its body: the chat-mode reader
            // finds its stamp there as in a WebSocket's frame.
            let sockets = try await client.connect(options.clients, mode: .chat) { _ in "/stomp" }
            for (index, socket) in sockets.enumerated() {
                socket.channel?.eventLoop.execute {
                    socket.send(text: "CONNECT\naccept-version:1.2\nlogin:l\(index)\n\n\u{0}")
                    socket.send(text: "SUBSCRIBE\nid:0\ndestination:/topic\(base)\n\n\u{0}")
                }
            }
        }
        let sender = try await client.connect(path: "\(base)/ws?user=sender", mode: mode)
        let driver = SendDriver(senders: [sender], rate: options.rate, size: options.size, window: 32)
        try await driver.start()
        let measurement = try await Measurement.run(client: client, target: target, options: options)
        driver.stop()
        return measurement.result(
            options, target: target,
            notes: options.listeners == .websocket
                ? [] : ["listeners are \(options.listeners == .sse ? "Server-Sent Events streams" : "STOMP subscriptions"); the sender is a WebSocket"])
    }

    /// Reads the room at `base` through the node at `url` (`--place-via`): in a cluster, that node
    /// takes the room, and every other node forwards it there.
    static func place(_ base: String, via url: String, client: LoadClient) async throws {
        let node = try BenchTarget.remote(url: url, pid: nil)
        let connection = try await HTTPLoadConnection.connect(host: node.host, port: node.port, on: client.group.next())
        defer { connection.close() }
        let status = try await connection.request(.GET, "\(base)/messages?limit=1").get()
        guard status == 200 else { throw BenchError("placing \(base) on \(url): HTTP \(status)") }
    }

    /// `rooms` rooms of `clients` clients, every client sending.
    static func rooms(_ options: BenchOptions, target: BenchTarget, client: LoadClient) async throws -> BenchResult {
        let mode: LoadSocket.Mode = options.raw ? .raw : .chat
        let run = UUID().uuidString.prefix(8)
        let kind = options.raw ? "relay" : "chat"
        let clients = options.clients
        let sockets = try await client.connect(options.rooms * clients, mode: mode) { index in
            "/rooms/\(kind)/r\(run)-\(index / clients)/ws?user=u\(index % clients)"
        }
        let driver = SendDriver(senders: sockets, rate: options.rate, size: options.size, window: 2)
        try await driver.start()
        let measurement = try await Measurement.run(client: client, target: target, options: options)
        driver.stop()
        return measurement.result(options, target: target)
    }

    /// `rooms` AI rooms of `clients` clients; one client per room prompts again as soon as an
    /// answer ends, so that every room always streams. Deliveries are `ai.delta` frames.
    static func ai(_ options: BenchOptions, target: BenchTarget, client: LoadClient) async throws -> BenchResult {
        let run = UUID().uuidString.prefix(8)
        let clients = max(1, options.clients)
        let sockets = try await client.connect(options.rooms * clients, mode: .ai) { index in
            "/rooms/ai/a\(run)-\(index / clients)/ws?user=u\(index % clients)"
        }
        let prompters = stride(from: 0, to: sockets.count, by: clients).map { sockets[$0] }
        let driver = SendDriver(senders: prompters, rate: .max, size: options.size, window: 1)
        try await driver.start()
        let measurement = try await Measurement.run(client: client, target: target, options: options)
        driver.stop()
        return measurement.result(
            options, target: target,
            notes: [
                "messages/s counts answers completed; deliveries/s counts ai.delta frames received; latency is "
                    + "from the local provider producing a token to a client receiving it "
                    + "(\(options.tokensPerSecond) tokens/s per answer, 50 tokens each)"
            ])
    }

    /// `rooms` documents of `clients` editors each, every editor an OT client with one edit in
    /// flight (``DocumentEditor``), sending its next edit as soon as the last is acknowledged.
    static func document(_ options: BenchOptions, target: BenchTarget, client: LoadClient) async throws -> BenchResult {
        let run = UUID().uuidString.prefix(8)
        let clients = max(1, options.clients)
        let sockets = try await client.connect(options.rooms * clients, mode: .document) { index in
            "/rooms/doc/d\(run)-\(index / clients)/ws?user=e\(index % clients)"
        }
        let driver = SendDriver(senders: sockets, rate: options.rate, size: options.size, window: 1)
        try await driver.start()
        let measurement = try await Measurement.run(client: client, target: target, options: options)
        driver.stop()
        return measurement.result(
            options, target: target,
            notes: [
                "messages/s counts edits stored (op.ack); deliveries/s counts op frames received by the other editors; "
                    + "latency is from an insert being sent to another editor receiving it (deletes are counted, not timed). "
                    + "Edits insert \(options.size) bytes at a random place, or past \(DocumentEditor.steadyLength) characters "
                    + "delete as many half the time, each based on the latest version its editor saw (concurrent edits are transformed)"
            ])
    }
}
