import Foundation

/// Frames from the server.
extension RoomClient {
    /// A text frame of connection `generation`: not JSON, not an object or of an unknown type,
    /// it is ignored (unknown types still reach ``RoomEvent/frame(_:)``).
    func received(_ text: String, generation: Int) {
        guard isCurrent(generation),
            let value = try? JSONDecoder().decode(JSONValue.self, from: Data(text.utf8)),
            let frame = value.objectValue, let type = frame["type"]?.stringValue
        else { return }
        if type == "pong" {
            pongDeadline?.cancel()
            pongDeadline = nil
        }
        emit(.frame(frame))
        switch type {
        case "welcome": welcomed(value, generation: generation)
        case "message": if let message = Message(value) { arrived(message, generation: generation) }
        case "ack": if let ack = Ack(value) { acknowledged(ack) }
        case "error": refused(value)
        case "presence": presenceChanged(value)
        case "receipt":
            guard let user = frame["user"]?.stringValue, let seq = frame["seq"]?.intValue else { return }
            if (receipts[user] ?? -1) < seq { receipts[user] = seq }
            emit(.receipt(user: user, seq: seq))
        case "typing":
            if let user = frame["user"]?.stringValue { emit(.typing(user: user)) }
        case "member":
            guard let event = frame["event"]?.stringValue, let user = frame["user"]?.stringValue else { return }
            emit(.member(event: event, user: user, role: frame["role"]?.stringValue))
        case "inbox": inboxChanged(value)
        case "ai.start", "ai.delta", "ai.end", "ai.resume", "ai.error": answerChanged(type, value)
        default: break
        }
    }

    func welcomed(_ frame: JSONValue, generation: Int) {
        guard !welcomed else { return }
        welcomed = true
        refreshedToken = false
        openedAt = .now
        connectTimer?.cancel()
        connectTimer = nil
        startPinging(generation: generation)
        let welcome = Welcome(frame)
        presence = welcome.present
        online = welcome.fields["online"]?.intValue ?? presence.count
        if room.isInbox {
            setState(.open)
            emit(.welcome(welcome))
            Task { await self.loadInbox(generation: generation) }
            return
        }
        let recreated = epoch != nil && welcome.epoch != epoch
        epoch = welcome.epoch
        if recreated {
            // The room was deleted and made again: its seq starts over.
            lastSeq = 0
            buffered = [:]
            emit(.reset(welcome))
        }
        emit(.welcome(welcome))
        emit(.presence(presence))
        // A first connection without `after`: messages from now on.
        let baseline = lastSeq ?? welcome.lastSeq
        lastSeq = baseline
        for frame in outbox.frames { transmit(frame) }
        if welcome.recovered || welcome.lastSeq <= baseline {
            setState(.open)
        } else {
            startSync(generation: generation)
        }
    }

    /// A stored message: delivered once, in seq order; a gap is filled from history first.
    func arrived(_ message: Message, generation: Int) {
        guard !room.isInbox, let lastSeq, message.seq > lastSeq else { return }
        if state == .syncing || message.seq > lastSeq + 1 {
            buffered[message.seq] = message
            if state != .syncing { startSync(generation: generation) }
            return
        }
        deliver(message)
    }

    func deliver(_ message: Message) {
        lastSeq = message.seq
        emit(.message(message))
    }

    func startSync(generation: Int) {
        setState(.syncing)
        Task { await self.sync(generation: generation) }
    }

    /// Pages history after `lastSeq` until caught up, then delivers what arrived meanwhile.
    func sync(generation: Int) async {
        while isCurrent(generation) {
            while true {
                guard let after = lastSeq else { return }
                let page: [Message]
                do {
                    page = try await http.messages(after: after, before: nil, limit: 500, token: token)
                } catch {
                    // The next connection tries again from lastSeq.
                    guard isCurrent(generation) else { return }
                    await connectionLost(code: CloseCode.clientGaveUp, reason: "sync_failed")
                    return
                }
                guard isCurrent(generation) else { return }
                for message in page where message.seq > (lastSeq ?? 0) { deliver(message) }
                if page.count < 500 { break }
            }
            while let seq = lastSeq, let next = buffered.removeValue(forKey: seq + 1) { deliver(next) }
            if let seq = lastSeq { buffered = buffered.filter { $0.key > seq } }
            if buffered.isEmpty {
                setState(.open)
                return
            }
        }
    }

    func acknowledged(_ ack: Ack) {
        guard outbox.settle(ack.id, with: .success(ack)) else { return }
        emit(.outbox(size: outbox.count, full: false))
    }

    func refused(_ frame: JSONValue) {
        let error = RoomsError(
            code: frame["code"]?.stringValue ?? "error", message: frame["message"]?.stringValue ?? "")
        if let id = frame["id"]?.stringValue, outbox.settle(id, with: .failure(error)) {
            emit(.outbox(size: outbox.count, full: false))
            return
        }
        emit(.error(error))
    }

    /// Presence is per user: `join` is a user's first connection, `leave` their last; `count`
    /// (a room over its `presenceLimit`) carries only how many are online.
    func presenceChanged(_ frame: JSONValue) {
        let user = frame["user"]?.stringValue
        switch frame["event"]?.stringValue {
        case "join":
            if let user, !presence.contains(where: { $0.user == user }) {
                presence.append(Present(user: user, connections: 1))
            }
        case "leave":
            presence.removeAll { $0.user == user }
        case "sync":
            if let present = frame["present"]?.arrayValue { presence = present.compactMap(Present.init) }
        default:
            break
        }
        online = frame["users"]?.intValue ?? presence.count
        emit(.presence(presence))
    }

    func answerChanged(_ type: String, _ frame: JSONValue) {
        guard let id = frame["stream"]?.stringValue else { return }
        var stream = streams[id] ?? AnswerStream(stream: id, replyTo: frame["replyTo"]?.intValue)
        if type == "ai.start" || type == "ai.resume" {
            stream = AnswerStream(stream: id, replyTo: frame["replyTo"]?.intValue)
        }
        switch type {
        case "ai.resume":
            stream.text = frame["text"]?.stringValue ?? ""
            stream.index = frame["index"]?.intValue ?? 0
        case "ai.delta":
            guard frame["index"]?.intValue == stream.index else { return }
            stream.text += frame["text"]?.stringValue ?? ""
            stream.index += 1
        case "ai.error":
            stream.error = RoomsError(
                code: frame["code"]?.stringValue ?? "error", message: frame["message"]?.stringValue ?? "")
        case "ai.end":
            stream.done = true
            stream.status = frame["status"]?.stringValue
            stream.seq = frame["seq"]?.intValue
        default:
            break
        }
        streams[id] = stream
        emit(.ai(stream))
    }

    // MARK: - Inbox

    func loadInbox(generation: Int) async {
        guard let rooms = try? await http.inbox(token: token), isCurrent(generation) else { return }
        for room in rooms { inbox[room.key] = room }
        emitInbox()
    }

    func inboxChanged(_ frame: JSONValue) {
        guard let value = frame["room"], let room = InboxRoom(value) else { return }
        if value["removed"]?.boolValue == true {
            inbox[room.key] = nil
        } else {
            inbox[room.key] = room
        }
        emitInbox()
    }

    func emitInbox() {
        emit(.inbox(inbox.values.sorted { ($0.updatedAt, $0.key) > ($1.updatedAt, $1.key) }))
    }
}
