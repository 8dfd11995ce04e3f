/// Connecting, reconnecting and stopping.
extension RoomClient {
    /// Whether `generation` is still the current, live connection.
    func isCurrent(_ generation: Int) -> Bool {
        generation == self.generation && connection != nil && !stopped
    }

    /// Opens a connection, resuming after `lastSeq` under `epoch`.
    func open() {
        guard !stopped, connection == nil else { return }
        reconnectTask = nil
        setState(.connecting)
        generation += 1
        let generation = generation
        welcomed = false
        openedAt = nil
        let address = room.socketURL(token: token, after: lastSeq, epoch: epoch)
        connection = Connection(
            url: address, maxFrameSize: max(options.maxFrameBytes, 1 << 22),
            received: { text in await self.received(text, generation: generation) },
            ended: { code, reason in await self.ended(generation: generation, code: code, reason: reason) })
        let timeout = options.connectTimeout
        connectTimer = Task {
            try? await Task.sleep(for: timeout)
            guard !Task.isCancelled else { return }
            await self.connectTimedOut(generation: generation)
        }
    }

    /// The connection `generation` ended (the server closed it, or the link was lost).
    func ended(generation: Int, code: Int, reason: String) async {
        guard isCurrent(generation) else { return }
        await connectionLost(code: code, reason: reason)
    }

    /// No welcome within `connectTimeout`: the attempt is abandoned (see ``RoomClient``).
    func connectTimedOut(generation: Int) async {
        guard isCurrent(generation), !welcomed else { return }
        await connectionLost(code: CloseCode.abnormal, reason: "connect_timeout")
    }

    /// Lets go of the current connection (closing it from this side) and its timers.
    func dropConnection(code: Int, reason: String) {
        connection?.close(code: code, reason: reason)
        connection = nil
        connectTimer?.cancel()
        connectTimer = nil
        pingTask?.cancel()
        pingTask = nil
        pongDeadline?.cancel()
        pongDeadline = nil
    }

    /// The connection is gone: reconnect (after a backoff), refresh the token, or stop for good.
    func connectionLost(code: Int, reason: String) async {
        let wasWelcomed = welcomed
        let lasted = openedAt.map { ContinuousClock.now - $0 >= options.resetAfter } ?? false
        dropConnection(code: CloseCode.clientGaveUp, reason: reason)
        guard !stopped else { return }
        if lasted { backoff.reset() }
        var code = code
        var reason = reason
        let generation = generation
        if !wasWelcomed, reason != "connect_timeout" {
            // Refused before the upgrade, or never connected: ask the room why over HTTP.
            setState(.waiting)
            if let refusal = await http.probe(token: token) { (code, reason) = refusal }
            // Meanwhile the app may have closed the client or reconnected it.
            guard !stopped, connection == nil, generation == self.generation else { return }
        }
        if code == CloseCode.unauthorized, let provider = options.tokenProvider {
            do {
                token = try await provider()
            } catch {
                guard !stopped else { return }
                finish(code: CloseCode.unauthorized, reason: "token_refresh_failed")
                return
            }
            guard !stopped, connection == nil, generation == self.generation else { return }
            if refreshedToken {
                // The last new token was refused too: do not hammer the server.
                setState(.waiting)
                scheduleReconnect()
            } else {
                refreshedToken = true
                backoff.reset()
                open()
            }
            return
        }
        if code == CloseCode.unauthorized || CloseCode.terminal.contains(code) {
            finish(code: code, reason: reason)
            return
        }
        setState(.waiting)
        scheduleReconnect()
    }

    /// Reconnects after the next backoff delay.
    func scheduleReconnect() {
        guard !stopped else { return }
        reconnectTask?.cancel()
        let delay = backoff.next()
        let generation = generation
        reconnectTask = Task {
            try? await Task.sleep(for: delay)
            guard !Task.isCancelled else { return }
            self.reconnectDue(generation: generation)
        }
    }

    func reconnectDue(generation: Int) {
        guard !stopped, connection == nil, generation == self.generation else { return }
        open()
    }

    /// Stops for good: `closed` is emitted, every waiting send fails with `closed`.
    func finish(code: Int, reason: String) {
        stopped = true
        reconnectTask?.cancel()
        reconnectTask = nil
        dropConnection(code: 1000, reason: "bye")
        setState(.closed)
        let why = "the connection closed for good with \(code)" + (reason.isEmpty ? "" : " (\(reason))")
        outbox.failAll(RoomsError(code: "closed", message: why))
        emit(.closed(code: code, reason: reason))
        continuation.finish()
    }

    // MARK: - Heartbeat

    /// A `ping` every `pingInterval`; a `pong` must come within `pongTimeout` of it.
    func startPinging(generation: Int) {
        pingTask?.cancel()
        let interval = options.pingInterval
        pingTask = Task {
            while !Task.isCancelled {
                try? await Task.sleep(for: interval)
                guard !Task.isCancelled else { return }
                self.pingDue(generation: generation)
            }
        }
    }

    func pingDue(generation: Int) {
        guard isCurrent(generation), pongDeadline == nil else { return }
        counter += 1
        transmit(Self.encode(["type": "ping", "id": .string("ping-\(counter)")]))
        let timeout = options.pongTimeout
        pongDeadline = Task {
            try? await Task.sleep(for: timeout)
            guard !Task.isCancelled else { return }
            await self.pongMissed(generation: generation)
        }
    }

    /// No answer to a ping: the link is dead even if the socket does not know it yet.
    func pongMissed(generation: Int) async {
        guard isCurrent(generation) else { return }
        await connectionLost(code: CloseCode.clientGaveUp, reason: "ping_timeout")
    }
}
