extension RoomContext {
    /// Queues `work` as a turn of this room, behind the events already waiting: how code the room
    /// started outside its turns (a network call, a model's stream) reports back to it.
    ///
    /// `work` receives the room instance and the context, like a hook: it may write storage,
    /// send and broadcast, and its output waits for its commit. It runs only in the activation
    /// that queued it: if the room hibernated or restarted in between, the job is dropped (the
    /// room's ``Room/onHibernate(context:)`` is where such work is wound up).
    ///
    /// ```swift
    /// let context = context  // captured by the task: the actor reference is Sendable
    /// Task {
    ///     let quote = try await fetchQuote()
    ///     context.enqueue(TickerRoom.self) { room, context in
    ///         room.publish(quote, context: context)
    ///     }
    /// }
    /// ```
    ///
    /// - Returns: false when the room is no longer active (the job was dropped).
    @discardableResult
    public nonisolated func enqueue<R: Room>(
        _ roomType: R.Type, _ work: @escaping @Sendable (R, isolated RoomContext) async throws -> Void
    ) -> Bool {
        let job = RoomJob(origin: ObjectIdentifier(self)) { room, context in
            guard let room = room as? R else {
                throw RoomError.internal("a job for \(R.self) was queued on a room of another class")
            }
            try await work(room, context)
        }
        return slot.deliverIfActive(.job(job))
    }

    /// Whether the room stays in memory while idle (default false). Set it while the room has
    /// work in flight outside its turns, such as a stream it relays, so that it is not hibernated
    /// for idleness halfway through. It still leaves memory at shutdown, on deletion, and when
    /// the node needs its place for another room; ``Room/onHibernate(context:)`` runs then as
    /// always. Reset to false at every activation.
    public var keepsActive: Bool {
        get { slot.keepsActive }
        set { slot.keepsActive = newValue }
    }
}
