import Synchronization

extension RoomContext {
    /// Sends `request` to another room (or this one) and returns its answer.
    ///
    /// The target room is activated if needed, on whatever shard it lives on, and receives the
    /// request in its ``Room/onRequest(_:context:)`` hook with ``RoomRequest/caller`` set to this
    /// room. While the call is out, this room keeps handling its other events, so two rooms that
    /// call each other (or a room that calls itself) never deadlock.
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
        let frameID = currentFrameID
        do {
            try storage.endTurn(keep: true)
        } catch {
            storage.beginTurn()
            failGroup(with: Self.storageFailed)
            throw Self.storageFailed
        }
        group.append(FinishedTurn(origin: .runtime, output: turnOutput, failure: nil, frameID: frameID))
        turnOutput.removeAll(keepingCapacity: true)
        commitGroup()
        defer {
            // The second half of the turn starts when the answer is in.
            storage.beginTurn()
            currentFrameID = frameID
        }
        guard !mustRestart else { throw Self.storageFailed }

        let answer = PendingAnswer()
        var request = request
        request.caller = address
        let slot = slot
        runtime.send(request, to: target, reply: ResponseHandler { result in
            if answer.set(result) { slot.signal() }
        })
        let timer = Task {
            try? await Task.sleep(for: timeout)
            if answer.set(.failure(.unavailable(.callTimeout, "\(target) did not answer within \(timeout)"))) {
                slot.signal()
            }
        }
        defer { timer.cancel() }
        // A room waiting in a call does not hold its place under the active-room cap.
        runtime.activeRooms.beginCall(slot)
        defer { runtime.activeRooms.endCall(slot) }

        // Handle this room's other events while the answer is out.
        while answer.result == nil {
            if let event = slot.nextEvent() {
                await handleQueued(event)
            } else {
                commitGroup()
                if answer.result != nil { break }
                await slot.park(ignoringHibernation: true)
            }
            if mustRestart { throw Self.storageFailed }
        }
        commitGroup()
        if mustRestart { throw Self.storageFailed }
        return try answer.result!.get()
    }
}

/// The answer to a call, set once (by the callee or the timeout, whichever comes first).
final class PendingAnswer: Sendable {
    private let value = Mutex<Result<RoomResponse, RoomError>?>(nil)

    var result: Result<RoomResponse, RoomError>? { value.withLock { $0 } }

    /// Sets the answer unless one is set; true when this call set it.
    func set(_ result: Result<RoomResponse, RoomError>) -> Bool {
        value.withLock { value in
            guard value == nil else { return false }
            value = result
            return true
        }
    }
}
