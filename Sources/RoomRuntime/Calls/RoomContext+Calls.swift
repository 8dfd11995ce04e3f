extension RoomContext {
    /// Sends `request` to another room (or this one) and returns its answer.
    ///
    /// The target room is activated if needed, on whatever shard it lives on, and receives the
    /// request in its ``Room/onRequest(_:context:)`` hook with ``RoomRequest/caller`` set to this
    /// room. While the call is out, this room keeps handling its other events, so two rooms that
    /// call each other (or a room that calls itself) never deadlock; and when the node is short of
    /// open databases, this room closes its file until the answer is in.
    ///
    /// A call is an `await` on another room, and it ends the current turn's first half: the writes
    /// made so far commit, and what the turn sent so far is released, before the request leaves
    /// (as in Durable Objects). Validate and write what must be atomic either before or after the
    /// call, not across it.
    ///
    /// ```swift
    /// let reply = try await context.call(RoomRequest(method: "POST", path: ["reserve"]),
    ///                                    to: RoomAddress(kind: "inventory", id: "shop-1"))
    /// ```
    ///
    /// - Throws: the ``RoomError`` the target answered with, `call_timeout` after `timeout`,
    ///   `unknown_kind`, or `storage_failed` when this room's writes before the call could not
    ///   be committed.
    public func call(_ request: RoomRequest, to target: RoomAddress, timeout: Duration = .seconds(30)) async throws
        -> RoomResponse
    {
        // End the first half of the turn: keep its writes and release its output.
        let wrote = storage.turnWrote
        do {
            try storage.endTurn(keep: true)
        } catch {
            storage.beginTurn()
            failGroup(with: Self.storageFailed)
            throw Self.storageFailed
        }
        let suspended = gate.suspendTurn(wrote: wrote)
        commitGroup()
        defer {
            // The second half of the turn starts when the answer is in.
            storage.beginTurn()
            gate.resumeTurn(suspended)
        }
        guard !mustRestart else { throw Self.storageFailed }

        let answer = PendingAnswer()
        var request = request
        request.caller = address
        let slot = slot
        host.send(request, to: target, reply: ResponseHandler { result in
            if answer.set(result) { slot.signal() }
        })
        let timer = Task {
            try? await Task.sleep(for: timeout)
            if answer.set(.failure(.unavailable(.callTimeout, "\(target) did not answer within \(timeout)"))) {
                slot.signal()
            }
        }
        defer { timer.cancel() }
        host.beginCall(slot)
        defer { host.endCall(slot) }

        // Serve this room's other events while the answer is out.
        guard case .answered = await serveMailbox(until: answer), await storageReady(), let result = answer.result else {
            throw Self.storageFailed
        }
        return try result.get()
    }
}
