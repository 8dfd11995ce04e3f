import DequeModule
import Foundation
import Logging
import NIOCore
@_spi(Node) import RoomRuntime

/// STOMP 1.2 (and 1.1, 1.0) on a WebSocket at `GET /stomp` (docs/PROTOCOL.md, "STOMP"): one
/// connection, any number of rooms.
///
/// - `CONNECT` (or `STOMP`) names the user: `login` without authentication, a token in
///   `passcode` or `Authorization: Bearer` with `auth.mode: "jwt"`. It must come within
///   `server.requestHeaderTimeoutSeconds` of the upgrade.
/// - `SUBSCRIBE` to `/topic/rooms/{kind}/{id}` opens a connection of that room
///   (``StompSubscription``), with the same access rules as a WebSocket's and gap-free resume from
///   `x-after` (and `x-epoch`).
/// - `SEND` posts a chat message exactly as `POST /rooms/{kind}/{id}/messages` does, with the
///   connection's user; its `receipt` is answered once the message is committed.
/// - Frames are handled in the order they arrive. A frame that needs an answer first (`CONNECT`
///   with a token to verify, `SUBSCRIBE` to a members room, whose membership is checked) holds
///   those after it, and the socket is not read meanwhile; so is a connection with
///   `maxFramesInFlight` `SEND`s not yet committed (TCP then holds the client back, as on the
///   room protocol). `DISCONNECT` and `COMMIT` wait for the `SEND`s before them, so that their
///   receipt means everything before was stored.
/// - Any error is an `ERROR` frame (`message` is the error code, `receipt-id` when the frame had a
///   `receipt`, the explanation as body), after which the connection is closed, as STOMP requires.
///
/// Everything here runs on the socket's event loop: answers from rooms and token checks come back
/// to it.
final class StompApplication: SocketApplication {
    /// The bytes a message may hold beyond a body of `server.maxFrameBytes`: the command and the
    /// headers.
    static let headerAllowance = StompFrameDecoder.maxHeaderBytes + 1_024
    /// How many heart-beat intervals may pass without a byte from the client before it is taken
    /// for gone.
    static let heartBeatTolerance = 2
    /// The most subscriptions one connection may hold.
    static let maxSubscriptions = 1_024
    /// The most transactions one connection may have open, and `SEND`s one may hold.
    static let maxTransactions = 16
    static let maxTransactionFrames = 1_000
    /// The `server` header of `CONNECTED`.
    static let serverName = "DurableRooms/1"

    private enum Phase {
        case awaitingConnect
        case connected(Caller, Identity)
        case ended
    }

    /// What waits to be handled, in order.
    private enum Item {
        case frame(StompFrame)
        /// The rest of a message could not be read: an `ERROR` once the frames before it are done.
        case failure(StompFrameDecoder.Failure)
        /// A `RECEIPT` owed once every `SEND` before it is answered (a `COMMIT`'s).
        case receiptAfterSends(String)
    }

    private struct Subscribed {
        let subscription: StompSubscription
        let handle: ConnectionHandle
    }

    private let settings: SocketSettings
    private let connectTimeout: Duration
    private var decoder: StompFrameDecoder
    private var phase = Phase.awaitingConnect
    private var version = StompVersion.v1_2
    private let session = UUID().uuidString.lowercased()
    private var outbox: Outbox?
    private var eventLoop: (any EventLoop)?
    private var subscriptions: [String: Subscribed] = [:]
    private var transactions: [String: [StompFrame]] = [:]
    private var queue = Deque<Item>()
    /// A token check or a membership check is under way: nothing else is handled until it ends.
    private var checking = false
    /// `SEND`s handed to rooms and not answered yet.
    private var sendsInFlight = 0
    /// The socket's resume, owed when ``receive(_:resume:)`` returned false.
    private var resume: (@Sendable () -> Void)?
    private var owesResume = false
    /// When the client last sent anything (a heart-beat counts).
    private var lastHeard = NIODeadline.now()
    private var timers: [Scheduled<Void>] = []
    private var heartBeats: [RepeatedTask] = []

    init(settings: SocketSettings, connectTimeout: Duration) {
        self.settings = settings
        self.connectTimeout = connectTimeout
        self.decoder = StompFrameDecoder(maxBodyBytes: settings.maxMessageBytes)
    }

    var maxMessageBytes: Int { settings.maxMessageBytes + Self.headerAllowance }

    private var runtime: RoomRuntime { settings.runtime }
    private var maxSendsInFlight: Int { runtime.configuration.maxFramesInFlight }

    func open(outbox: Outbox, context: ChannelHandlerContext) {
        self.outbox = outbox
        let loop = context.eventLoop
        eventLoop = loop
        let application = NIOLoopBound(self, eventLoop: loop)
        timers.append(
            loop.scheduleTask(in: TimeAmount(connectTimeout)) {
                guard case .awaitingConnect = application.value.phase else { return }
                application.value.fail(
                    RoomError(.badRequest, .requestTimeout, "send CONNECT within \(application.value.connectTimeout) of the upgrade"))
            })
    }

    func receive(_ message: ClientMessage, resume: @escaping @Sendable () -> Void) -> Bool {
        guard !isEnded else { return true }
        self.resume = resume
        lastHeard = .now()
        let bytes: ByteBuffer
        switch message {
        case .text(let text): bytes = ByteBuffer(string: text)
        case .binary(let data): bytes = data
        }
        let (frames, failure) = decoder.decode(bytes)
        for frame in frames { queue.append(.frame(frame)) }
        if let failure { queue.append(.failure(failure)) }
        if run() { return true }
        owesResume = true
        return false
    }

    func end() {
        phase = .ended
        queue.removeAll()
        for timer in timers { timer.cancel() }
        for task in heartBeats { task.cancel() }
        timers.removeAll()
        heartBeats.removeAll()
        for subscribed in subscriptions.values {
            subscribed.subscription.end()
            subscribed.handle.disconnect()
        }
        subscriptions.removeAll()
        transactions.removeAll()
    }

    /// A shutdown closes the socket with an `ERROR` `shutting_down` first, as a room that ends a
    /// subscription does.
    func registration(for outbox: Outbox) -> any OpenConnection {
        StompFarewell(outbox: outbox)
    }

    // MARK: - The queue

    private var isEnded: Bool {
        if case .ended = phase { return true }
        return false
    }

    /// Handles what is queued until something must be waited for; true when nothing is left.
    private func run() -> Bool {
        while !isEnded, !checking, sendsInFlight < maxSendsInFlight, let item = queue.first {
            if sendsInFlight > 0, waitsForSends(item) { return false }
            queue.removeFirst()
            switch item {
            case .frame(let frame):
                do throws(RoomError) {
                    try handle(frame)
                } catch {
                    fail(error, receipt: frame["receipt"])
                }
            case .failure(let failure):
                fail(failure.error, receipt: failure.receipt)
            case .receiptAfterSends(let receipt):
                sendReceipt(receipt)
            }
        }
        return isEnded || (queue.isEmpty && !checking && sendsInFlight < maxSendsInFlight)
    }

    private func waitsForSends(_ item: Item) -> Bool {
        switch item {
        case .receiptAfterSends: return true
        case .frame(let frame): return frame.command == "DISCONNECT"
        case .failure: return false
        }
    }

    /// What held the queue is done: go on, and read the socket again once the queue is empty.
    private func proceed() {
        guard run(), owesResume else { return }
        owesResume = false
        resume?()
    }

    // MARK: - Frames

    private func handle(_ frame: StompFrame) throws(RoomError) {
        guard case .connected(let caller, let identity) = phase else {
            guard frame.command == "CONNECT" || frame.command == "STOMP" else {
                throw .badRequest(.unexpectedFrame, "the first frame is CONNECT (or STOMP); got \(frame.command)")
            }
            return try connect(frame)
        }
        switch frame.command {
        case "SEND":
            try send(frame, caller: caller, identity: identity)
        case "SUBSCRIBE":
            try subscribe(frame, caller: caller, identity: identity)
        case "UNSUBSCRIBE":
            let id = try required("id", in: frame, orInVersion1_0: "destination")
            guard let subscribed = subscriptions.removeValue(forKey: id) else {
                throw .badRequest(.invalidSubscription, "this connection has no subscription '\(id)'")
            }
            subscribed.subscription.end()
            subscribed.handle.disconnect()
            sendReceipt(for: frame)
        case "ACK", "NACK":
            _ = try required(version == .v1_2 ? "id" : "message-id", in: frame)
            if let transaction = frame["transaction"], transactions[transaction] == nil {
                throw .badRequest(.invalidTransaction, "no transaction '\(transaction)' was begun")
            }
            sendReceipt(for: frame)
        case "BEGIN":
            let transaction = try required("transaction", in: frame)
            guard transactions[transaction] == nil else {
                throw .badRequest(.invalidTransaction, "transaction '\(transaction)' was already begun")
            }
            guard transactions.count < Self.maxTransactions else {
                throw .badRequest(.invalidTransaction, "a connection has at most \(Self.maxTransactions) transactions open")
            }
            transactions[transaction] = []
            sendReceipt(for: frame)
        case "COMMIT":
            let transaction = try required("transaction", in: frame)
            guard let sends = transactions.removeValue(forKey: transaction) else {
                throw .badRequest(.invalidTransaction, "no transaction '\(transaction)' was begun")
            }
            // The transaction's SENDs go now, in order, and the receipt after they are stored.
            if let receipt = frame["receipt"] { queue.prepend(.receiptAfterSends(receipt)) }
            queue.prepend(contentsOf: sends.map(Item.frame))
        case "ABORT":
            let transaction = try required("transaction", in: frame)
            guard transactions.removeValue(forKey: transaction) != nil else {
                throw .badRequest(.invalidTransaction, "no transaction '\(transaction)' was begun")
            }
            sendReceipt(for: frame)
        case "DISCONNECT":
            sendReceipt(for: frame)
            let outbox = outbox
            end()
            outbox?.close(code: .normal, reason: "disconnect")
        case "CONNECT", "STOMP":
            throw .badRequest(.unexpectedFrame, "the connection is already connected")
        default:
            throw .badRequest(
                .unknownCommand,
                "unknown command '\(frame.command)'; a client sends CONNECT, STOMP, SEND, SUBSCRIBE, UNSUBSCRIBE, ACK, NACK, BEGIN, COMMIT, ABORT or DISCONNECT"
            )
        }
    }

    /// The value of header `name` of `frame`.
    ///
    /// - Parameter fallback: a header that stands for it in STOMP 1.0, where `id` was optional.
    /// - Throws: ``RoomError`` `missing_header`.
    private func required(_ name: String, in frame: StompFrame, orInVersion1_0 fallback: String? = nil) throws(RoomError)
        -> String
    {
        if let value = frame[name] { return value }
        if version == .v1_0, let fallback, let value = frame[fallback] { return value }
        throw .badRequest(.missingHeader, "\(frame.command) needs a '\(name)' header")
    }

    // MARK: - CONNECT

    private func connect(_ frame: StompFrame) throws(RoomError) {
        guard let version = StompVersion.negotiate(frame["accept-version"]) else {
            fail(
                .badRequest(.unsupportedVersion, "this server speaks STOMP \(StompVersion.supported)"),
                receipt: frame["receipt"], headers: [("version", StompVersion.supported)])
            return
        }
        self.version = version
        decoder.version = version
        let heartBeat = try Self.heartBeat(frame["heart-beat"])
        guard settings.gatekeeper.mode == .jwt else {
            guard let login = frame["login"] else {
                throw .badRequest(.invalidUser, "name the user in CONNECT's 'login' header")
            }
            let caller = Caller.unauthenticated(user: try UserName.validate(login))
            return connected(caller, heartBeat: heartBeat)
        }
        guard let token = Self.token(in: frame) else {
            throw .unauthorized(.unauthorized, "a token is required: CONNECT's 'passcode', or 'Authorization: Bearer <jwt>'")
        }
        checking = true
        let gatekeeper = settings.gatekeeper
        let application = NIOLoopBound(self, eventLoop: eventLoop!)
        let loop = eventLoop!
        Task {
            let result: Result<Caller, RoomError>
            do throws(RoomError) {
                result = .success(try await gatekeeper.authenticate(authorization: "Bearer \(token)", query: [:]))
            } catch {
                result = .failure(error)
            }
            loop.execute {
                let application = application.value
                application.checking = false
                switch result {
                case .success(let caller): application.connected(caller, heartBeat: heartBeat)
                case .failure(let error): application.fail(error, receipt: frame["receipt"])
                }
                application.proceed()
            }
        }
    }

    /// The token of a `CONNECT`: its `passcode`, or its `Authorization: Bearer` header.
    private static func token(in frame: StompFrame) -> String? {
        if let passcode = frame["passcode"], !passcode.isEmpty {
            return passcode.hasPrefix("Bearer ") ? String(passcode.dropFirst(7)) : passcode
        }
        guard let authorization = frame["Authorization"] ?? frame["authorization"] else { return nil }
        let parts = authorization.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else { return nil }
        return parts[1].trimmingCharacters(in: .whitespaces)
    }

    /// A `heart-beat` header (`cx,cy`, milliseconds): what the client can send and wants.
    private static func heartBeat(_ header: String?) throws(RoomError) -> (send: Int, receive: Int) {
        guard let header else { return (0, 0) }
        let parts = header.split(separator: ",", omittingEmptySubsequences: false)
        guard parts.count == 2, let send = Int(parts[0].trimmingCharacters(in: .whitespaces)),
            let receive = Int(parts[1].trimmingCharacters(in: .whitespaces)), send >= 0, receive >= 0
        else {
            throw .badRequest(.invalidHeader, "heart-beat is two numbers of milliseconds: 'cx,cy'")
        }
        return (send, receive)
    }

    private func connected(_ caller: Caller, heartBeat client: (send: Int, receive: Int)) {
        guard !isEnded else { return }
        let identity: Identity
        do throws(RoomError) {
            identity = try RoomRoutes.requireUser(caller)
        } catch {
            return fail(error)
        }
        phase = .connected(caller, identity)
        for timer in timers { timer.cancel() }
        timers.removeAll()
        // STOMP 1.2, "Heart-beating": each way, the larger of what one side can and the other
        // wants, or none when either says 0. The server offers `server.stompHeartBeatSeconds`
        // both ways.
        let offer = settings.stompHeartBeatMilliseconds
        let outgoing = client.receive == 0 || offer == 0 ? 0 : max(client.receive, offer)
        let incoming = client.send == 0 || offer == 0 ? 0 : max(client.send, offer)
        send(
            StompFrame(
                "CONNECTED",
                [
                    ("version", version.rawValue), ("heart-beat", "\(offer),\(offer)"),
                    ("server", Self.serverName), ("session", session), ("user-name", identity.user),
                ]))
        startHeartBeats(outgoing: outgoing, incoming: incoming)
        if let expiresAt = identity.expiresAt, let leeway = settings.gatekeeper.verifier?.leewayMilliseconds {
            watchExpiry(at: expiresAt + leeway)
        }
    }

    private func startHeartBeats(outgoing: Int, incoming: Int) {
        guard let loop = eventLoop else { return }
        let application = NIOLoopBound(self, eventLoop: loop)
        if outgoing > 0 {
            heartBeats.append(
                loop.scheduleRepeatedTask(initialDelay: .milliseconds(Int64(outgoing)), delay: .milliseconds(Int64(outgoing))) {
                    _ in
                    application.value.outbox?.send(.text("\n"))
                })
        }
        if incoming > 0 {
            let limit = TimeAmount.milliseconds(Int64(incoming * Self.heartBeatTolerance))
            heartBeats.append(
                loop.scheduleRepeatedTask(initialDelay: .milliseconds(Int64(incoming)), delay: .milliseconds(Int64(incoming))) {
                    _ in
                    let application = application.value
                    guard NIODeadline.now() - application.lastHeard > limit else { return }
                    application.settings.logger.debug("closing a STOMP connection whose heart-beats stopped")
                    application.fail(
                        RoomError(.badRequest, .requestTimeout, "no heart-beat from the client for \(limit.nanoseconds / 1_000_000) ms"))
                })
        }
    }

    /// Ends the connection with `token_expired` when its token does (the room protocol closes a
    /// WebSocket then too; STOMP has no refresh: the client connects again with a new token).
    private func watchExpiry(at deadline: Int64) {
        guard let loop = eventLoop else { return }
        let application = NIOLoopBound(self, eventLoop: loop)
        let now = WallClock.millisecondsSince1970()
        guard now < deadline else {
            return fail(.unauthorized(.tokenExpired, "the token has expired; connect again with a new one"))
        }
        timers.append(
            loop.scheduleTask(in: .milliseconds(min(deadline - now, 3_600_000))) {
                application.value.watchExpiry(at: deadline)
            })
    }

    // MARK: - SUBSCRIBE

    private func subscribe(_ frame: StompFrame, caller: Caller, identity: Identity) throws(RoomError) {
        let destination = try required("destination", in: frame)
        let id = try required("id", in: frame, orInVersion1_0: "destination")
        guard subscriptions[id] == nil else {
            throw .badRequest(.invalidSubscription, "subscription id '\(id)' is already in use on this connection")
        }
        guard subscriptions.count < Self.maxSubscriptions else {
            throw .badRequest(.invalidSubscription, "a connection has at most \(Self.maxSubscriptions) subscriptions")
        }
        guard let ackMode = StompSubscription.AckMode(rawValue: frame["ack"] ?? "auto") else {
            throw .badRequest(.invalidHeader, "ack is auto, client or client-individual")
        }
        let address = try StompDestination.address(destination, runtime: runtime)
        var parameters: [String: String] = [:]
        parameters["after"] = frame["x-after"]
        parameters["epoch"] = frame["x-epoch"]
        do {
            try ResumePoint.validate(parameters)
        } catch {
            throw .badRequest(
                .invalidHeader, "x-after is a sequence number, and x-epoch the epoch a welcome gave (\(error.message))")
        }
        try settings.gatekeeper.authorize(caller, for: address)
        let request = SubscriptionRequest(
            id: id, address: address, ackMode: ackMode, parameters: parameters, receipt: frame["receipt"],
            identity: identity)
        guard runtime.kind(named: address.kind)?.access != .open else { return try open(request) }
        // A members or direct room: its membership is checked first, as before a WebSocket's
        // upgrade, and nothing else is handled meanwhile.
        checking = true
        let runtime = runtime
        let application = NIOLoopBound(self, eventLoop: eventLoop!)
        let loop = eventLoop!
        Task {
            let admission: RoomError?
            do throws(RoomError) {
                try await runtime.admit(identity, to: address)
                admission = nil
            } catch {
                admission = error
            }
            loop.execute {
                let application = application.value
                application.checking = false
                guard !application.isEnded else { return }
                do throws(RoomError) {
                    if let admission { throw admission }
                    try application.open(request)
                } catch {
                    application.fail(error, receipt: request.receipt)
                }
                application.proceed()
            }
        }
    }

    /// A `SUBSCRIBE` once read and checked.
    private struct SubscriptionRequest: Sendable {
        let id: String
        let address: RoomAddress
        let ackMode: StompSubscription.AckMode
        let parameters: [String: String]
        let receipt: String?
        let identity: Identity
    }

    private func open(_ request: SubscriptionRequest) throws(RoomError) {
        let subscription = StompSubscription(
            id: request.id, address: request.address, ackMode: request.ackMode, version: version,
            receipt: request.receipt, outbox: outbox!)
        let handle = try runtime.connect(
            to: request.address, identity: request.identity, parameters: request.parameters, transport: subscription)
        subscriptions[request.id] = Subscribed(subscription: subscription, handle: handle)
    }

    // MARK: - SEND

    private func send(_ frame: StompFrame, caller: Caller, identity: Identity) throws(RoomError) {
        let destination = try required("destination", in: frame)
        let address = try StompDestination.address(destination, runtime: runtime)
        try settings.gatekeeper.authorize(caller, for: address)
        if let transaction = frame["transaction"] {
            guard transactions[transaction] != nil else {
                throw .badRequest(.invalidTransaction, "no transaction '\(transaction)' was begun")
            }
            guard transactions[transaction]!.count < Self.maxTransactionFrames else {
                throw RoomError(.tooLarge, .payloadTooLarge, "a transaction holds at most \(Self.maxTransactionFrames) frames")
            }
            var held = frame
            held.headers.removeAll { $0.name == "transaction" || $0.name == "receipt" }
            transactions[transaction]!.append(held)
            sendReceipt(for: frame)
            return
        }
        let request = RoomRequest(
            method: "POST", path: ["messages"], body: try Self.postedMessage(frame, user: identity.user), identity: identity)
        let receipt = frame["receipt"]
        let application = NIOLoopBound(self, eventLoop: eventLoop!)
        let loop = eventLoop!
        try runtime.submit(request, to: address) { result in
            loop.execute { application.value.answered(result, receipt: receipt) }
        }
        sendsInFlight += 1
    }

    /// The body of `POST .../messages` for a `SEND`: its JSON object (`{"text", "id"?,
    /// "deliverAt"?}`), or a `text/plain` body as the text with `x-id` as the id; the user is
    /// always the connection's. Without a `content-type`, a body that starts with `{` is JSON.
    private static func postedMessage(_ frame: StompFrame, user: String) throws(RoomError) -> ByteBuffer {
        let type = frame["content-type"]?.lowercased()
        var object: [String: Any]
        let body = Data(frame.body.readableBytesView)
        let isJSON: Bool
        if let type {
            guard type.hasPrefix("application/json") || type.hasPrefix("text/plain") else {
                throw .badRequest(.invalidHeader, "a SEND's content-type is application/json or text/plain")
            }
            isJSON = type.hasPrefix("application/json")
        } else {
            isJSON = body.first { $0 != 0x20 && $0 != 0x0A && $0 != 0x0D && $0 != 0x09 } == UInt8(ascii: "{")
        }
        if isJSON {
            guard let parsed = try? JSONSerialization.jsonObject(with: body) as? [String: Any] else {
                throw .badRequest(.invalidJSON, "a SEND's JSON body is an object: {\"text\": \"...\", \"id\": \"...\"}")
            }
            object = parsed
        } else {
            guard let text = String(data: body, encoding: .utf8) else {
                throw .badRequest(.invalidFrame, "a text/plain body is UTF-8 text")
            }
            object = ["text": text]
            if let id = frame["x-id"] { object["id"] = id }
        }
        object["user"] = user
        guard let encoded = try? JSONSerialization.data(withJSONObject: object) else {
            throw .badRequest(.invalidJSON, "the SEND's body cannot be read as a message")
        }
        return ByteBuffer(bytes: encoded)
    }

    /// A room answered a `SEND`: its `RECEIPT` (with the message's `x-seq`), or an `ERROR`.
    private func answered(_ result: Result<RoomResponse, RoomError>, receipt: String?) {
        sendsInFlight -= 1
        guard !isEnded else { return }
        switch result {
        case .success(let response) where response.status < 400:
            if let receipt {
                var headers = [("receipt-id", receipt)]
                if let object = try? JSONSerialization.jsonObject(with: Data(response.body.readableBytesView))
                    as? [String: Any]
                {
                    if let seq = object["seq"] as? Int { headers.append(("x-seq", String(seq))) }
                    if object["duplicate"] as? Bool == true { headers.append(("x-duplicate", "true")) }
                    if object["scheduled"] as? Bool == true { headers.append(("x-scheduled", "true")) }
                }
                send(StompFrame("RECEIPT", headers))
            }
        case .success(let response):
            let error = (try? JSONSerialization.jsonObject(with: Data(response.body.readableBytesView)) as? [String: Any])?[
                "error"] as? [String: Any]
            fail(
                RoomError(
                    .badRequest, RoomError.Code(rawValue: error?["code"] as? String ?? "request_failed"),
                    error?["message"] as? String ?? "the room answered \(response.status)"),
                receipt: receipt)
        case .failure(let error):
            fail(error, receipt: receipt)
        }
        proceed()
    }

    // MARK: - Writing

    /// `frame` as the WebSocket message that carries it.
    static func frame(_ frame: StompFrame, version: StompVersion) -> OutboundFrame {
        OutboundFrame(opcode: .text, payload: frame.encoded(version: version))
    }

    private func send(_ frame: StompFrame) {
        outbox?.send(Self.frame(frame, version: version))
    }

    private func sendReceipt(for frame: StompFrame) {
        if let receipt = frame["receipt"] { sendReceipt(receipt) }
    }

    private func sendReceipt(_ receipt: String) {
        send(StompFrame("RECEIPT", [("receipt-id", receipt)]))
    }

    /// Sends `ERROR` for `error` and closes the connection after it.
    private func fail(_ error: RoomError, receipt: String? = nil, headers extra: [(String, String)] = []) {
        guard !isEnded, let outbox else { return }
        let receiptID = receipt.map { [("receipt-id", $0)] } ?? []
        send(.error(error.code.rawValue, receiptID + extra, explanation: error.message))
        end()
        outbox.close(code: CloseCode(closingFor: error), reason: error.code.rawValue)
    }
}
