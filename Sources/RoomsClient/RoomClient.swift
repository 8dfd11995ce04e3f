import Foundation

/// One room (or the user's inbox), kept connected: it reconnects with full-jitter backoff, resumes
/// with `after` and `epoch`, fills any gap from history, and hands the app every stored message
/// exactly once, in `seq` order, across any number of reconnects. Sends wait in a bounded outbox
/// while disconnected and are resent with the same `id` until acknowledged; the server stores
/// each id once. The Swift port of `clients/js/rooms.js`; docs/CLIENTS.md describes both.
///
/// ```swift
/// let room = try RoomClient(url: "wss://chat.example.com/rooms/chat/lobby/ws",
///                           options: RoomClientOptions(tokenProvider: { try await myApp.roomsToken() }))
/// Task {
///     for await event in room.events {
///         if case .message(let message) = event { print(message.seq, message.user, message.text) }
///     }
/// }
/// let ack = try await room.send("hello")   // returns once stored
/// ```
///
/// The client connects as soon as it is made, and keeps at it until ``close()`` or a terminal
/// close code: call ``close()`` when done (the client's tasks hold it until then).
///
/// A guard against a hang: Hummingbird's `WebSocketClient.connect` (swift-websocket 1.6.2) can
/// wait forever, ignoring cancellation, when the TCP link drops in the middle of the upgrade. An
/// attempt that has no `welcome` within ``RoomClientOptions/connectTimeout`` is therefore
/// abandoned and the client reconnects; the stuck task is cancelled but may stay suspended (a
/// small leak: its socket and task) until the operating system gives up on the connection.
public actor RoomClient {
    /// What happens, in order: messages, state changes, presence, ... until ``RoomEvent/closed(code:reason:)``,
    /// after which the sequence ends. Meant for one consumer. Buffered as
    /// ``RoomClientOptions/eventBuffering`` says (unbounded by default: read it, or bound it).
    public nonisolated let events: AsyncStream<RoomEvent>
    /// The URL the client was made with.
    public nonisolated let url: String

    /// Where the client is: connecting, syncing, open, waiting or closed.
    public internal(set) var state: ConnectionState = .connecting
    /// The last `seq` delivered to the app; nil until the first welcome sets the baseline.
    public internal(set) var lastSeq: Int?
    /// The room's epoch, from the last welcome.
    public internal(set) var epoch: String?
    /// Who is online, from the welcome and `presence` frames (while the room is over its
    /// `presenceLimit`: as of the last `sync`).
    public internal(set) var presence: [Present] = []
    /// How many users are online (right in big rooms too).
    public internal(set) var online = 0
    /// Each user's read cursor: user → the highest `seq` they read, from `receipt` frames.
    public internal(set) var receipts: [String: Int] = [:]
    /// AI answers by stream id.
    public internal(set) var streams: [String: AnswerStream] = [:]
    /// An inbox client's rooms by `kind/id`.
    public internal(set) var inbox: [String: InboxRoom] = [:]
    /// How many sends wait for their ack.
    public var outboxCount: Int { outbox.count }

    let continuation: AsyncStream<RoomEvent>.Continuation
    let room: RoomURL
    let options: RoomClientOptions
    let http: RoomHTTP
    var token: String?
    var outbox = Outbox()
    /// The current connection; nil while waiting or closed.
    var connection: Connection?
    /// Counts connections: what an old connection, timer or sync reports is ignored.
    var generation = 0
    var welcomed = false
    var openedAt: ContinuousClock.Instant?
    var backoff: Backoff
    /// Live messages past a gap, held until history fills it.
    var buffered: [Int: Message] = [:]
    var stopped = false
    /// The token was refreshed after a 4401 and no welcome came since.
    var refreshedToken = false
    var counter = 0
    var reconnectTask: Task<Void, Never>?
    var connectTimer: Task<Void, Never>?
    var pingTask: Task<Void, Never>?
    var pongDeadline: Task<Void, Never>?

    /// Makes a client for a room and starts connecting.
    ///
    /// - Parameters:
    ///   - url: the room's WebSocket URL, `ws[s]://HOST/rooms/{kind}/{id}/ws` (with `?user=NAME`
    ///     when the server runs without authentication), or `ws[s]://HOST/inbox/ws` for the
    ///     user's inbox.
    ///   - options: tokens, where to resume, backoff, limits.
    /// - Throws: `invalid_url` when `url` is not one of those.
    public init(url: String, options: RoomClientOptions = RoomClientOptions()) throws(RoomsError) {
        let room = try RoomURL(url)
        self.url = url
        self.room = room
        self.options = options
        self.http = RoomHTTP(url: room, timeout: options.requestTimeout)
        self.token = options.token
        self.lastSeq = room.isInbox ? nil : options.after
        self.epoch = options.epoch
        self.backoff = Backoff(minimum: options.minBackoff, maximum: options.maxBackoff)
        (events, continuation) = AsyncStream.makeStream(of: RoomEvent.self, bufferingPolicy: options.eventBuffering)
        Task { await self.open() }
    }

    // MARK: - Sending

    /// Sends a chat message and returns its ack once the server stored it (or scheduled it).
    ///
    /// While disconnected the send waits in the outbox; after every reconnect the outbox is sent
    /// again, in order, with the same ids, until each is acknowledged: the server stores an id
    /// once (a repeat is acknowledged with `duplicate: true` and the original `seq`). Sending an
    /// id that already waits joins that send. Cancelling the caller does not withdraw the message.
    ///
    /// - Parameters:
    ///   - text: the message, at most the kind's `maxTextBytes`.
    ///   - id: your name for the message, 1 to 128 bytes (default: a fresh one).
    ///   - deliverAt: schedules the message for this time (milliseconds since 1970).
    /// - Throws: the server's error (`text_too_long`, `not_a_member`, `read_only`, ...);
    ///   `outbox_full`, `payload_too_large`, or `closed` when the client stopped first.
    public func send(_ text: String, id: String? = nil, deliverAt: Int? = nil) async throws(RoomsError) -> Ack {
        guard !stopped else { throw RoomsError(code: "closed", message: "the client is closed") }
        let id = id ?? makeID()
        var frame: [String: JSONValue] = ["type": "send", "text": .string(text), "id": .string(id)]
        if let deliverAt { frame["deliverAt"] = .number(Double(deliverAt)) }
        let encoded = Self.encode(frame)
        guard encoded.utf8.count <= options.maxFrameBytes else {
            throw RoomsError(code: "payload_too_large", message: "the message is larger than a frame may be (\(options.maxFrameBytes) bytes)")
        }
        if !outbox.contains(id), outbox.count >= options.outboxLimit {
            emit(.outbox(size: outbox.count, full: true))
            throw RoomsError(code: "outbox_full", message: "\(outbox.count) sends wait for their ack")
        }
        let result = await withCheckedContinuation { (waiter: Outbox.Waiter) in
            let isNew = !outbox.contains(id)
            outbox.add(id: id, frame: encoded, waiter: waiter)
            if isNew {
                emit(.outbox(size: outbox.count, full: false))
                transmit(encoded)
            }
        }
        return try result.get()
    }

    /// Marks every message up to `seq` read (a `read` frame). Sent only while connected; returns
    /// whether it was. A later read covers an earlier one.
    @discardableResult
    public func read(_ seq: Int) -> Bool {
        transmit(Self.encode(["type": "read", "seq": .number(Double(seq))]))
    }

    /// Tells the room the user is typing (the room throttles). Sent only while connected.
    @discardableResult
    public func typing() -> Bool {
        transmit(Self.encode(["type": "typing"]))
    }

    /// Sends a frame of the room's own (an `ai.prompt`, a game move, ...) as JSON. Not queued:
    /// sent only while connected; returns whether it was.
    @discardableResult
    public func sendFrame(_ frame: [String: JSONValue]) -> Bool {
        transmit(Self.encode(frame))
    }

    /// A page of history over HTTP: messages after `after` (ascending), or the newest before
    /// `before` (still ascending), at most `limit` (1 to the kind's `maxHistoryLimit`).
    /// - Throws: the server's error code (`invalid_query`, `not_a_member`, ...), or `not_connected`.
    public func history(after: Int? = nil, before: Int? = nil, limit: Int = 50) async throws(RoomsError) -> [Message] {
        try await http.messages(after: after, before: before, limit: limit, token: token)
    }

    /// Drops the current connection (if any) and connects again at once, without waiting for the
    /// backoff: for when the app knows the network is back.
    public func reconnectNow() {
        guard !stopped else { return }
        reconnectTask?.cancel()
        reconnectTask = nil
        dropConnection(code: CloseCode.clientGaveUp, reason: "reconnect")
        open()
    }

    /// Closes the connection and stops for good: waiting sends fail with `closed`, and
    /// ``events`` ends after ``RoomEvent/closed(code:reason:)`` (1000).
    public func close() {
        guard !stopped else { return }
        dropConnection(code: 1000, reason: "bye")
        finish(code: 1000, reason: "closed")
    }

    // MARK: - Helpers

    func emit(_ event: RoomEvent) {
        continuation.yield(event)
    }

    func setState(_ state: ConnectionState) {
        guard self.state != state else { return }
        self.state = state
        emit(.state(state))
    }

    /// Sends a frame on the current connection if it is welcomed; whether it was.
    @discardableResult
    func transmit(_ frame: String) -> Bool {
        guard let connection, welcomed else { return false }
        connection.send(frame)
        return true
    }

    func makeID() -> String {
        counter += 1
        let now = String(Int(Date().timeIntervalSince1970 * 1000), radix: 36)
        return "c-\(now)-\(String(UInt32.random(in: .min ... .max), radix: 36))-\(counter)"
    }

    static func encode(_ frame: [String: JSONValue]) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes]
        return String(decoding: (try? encoder.encode(frame)) ?? Data("{}".utf8), as: UTF8.self)
    }
}
