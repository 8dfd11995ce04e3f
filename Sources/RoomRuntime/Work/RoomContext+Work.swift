extension RoomContext {
    /// Starts `body` as work of this room outside its turns: a network call, a model's stream, a
    /// feed to follow. Hooks must not wait on the network (the room would stall); work like this
    /// runs beside them, and reports back with ``RoomWork/report(_:)``, whose closure runs as a
    /// turn of the room, in order with its other events.
    ///
    /// The runtime owns the task: it runs preferably on the room's shard, keeps the room in memory
    /// while it runs (unless `keepsActive` is false), and is cancelled when the room leaves memory
    /// (shutdown, eviction, deletion), before ``Room/onHibernate(context:)``, which is where such
    /// work is wound up. ``cancelWork(_:)`` stops it earlier.
    ///
    /// ```swift
    /// let work = context.startWork(TickerRoom.self) { work in
    ///     for await quote in quotes() {
    ///         guard work.report({ room, context in room.publish(quote, context: context) }) else { return }
    ///     }
    /// }
    /// ```
    @discardableResult
    public func startWork<R: Room>(
        _ roomType: R.Type, keepsActive: Bool = true, _ body: @escaping @Sendable (RoomWork<R>) async -> Void
    ) -> WorkHandle {
        let handle = work.reserve()
        let task = Self.launch(handle, on: slot.shard, context: self) { await body(RoomWork(context: $0)) }
        work.add(handle, task: task, keepsActive: keepsActive)
        updateKeepsActive()
        return handle
    }

    /// Starts `body` as work of this room outside its turns, like
    /// ``startWork(_:keepsActive:_:)``, for code that reports back through the context alone
    /// (``enqueue(_:)``) rather than to the room instance: a part a room class composes, which
    /// does not know the class it is part of.
    @discardableResult
    public func startWork(keepsActive: Bool = true, _ body: @escaping @Sendable (RoomContext) async -> Void)
        -> WorkHandle
    {
        let handle = work.reserve()
        let task = Self.launch(handle, on: slot.shard, context: self, body)
        work.add(handle, task: task, keepsActive: keepsActive)
        updateKeepsActive()
        return handle
    }

    /// Cancels the work started as `handle`, if it is still running.
    public func cancelWork(_ handle: WorkHandle) {
        work.cancel(handle)
        updateKeepsActive()
    }

    /// Whether the work started as `handle` is still running.
    public func isRunning(_ handle: WorkHandle) -> Bool {
        work.contains(handle)
    }

    /// Starts the task, outside the actor's isolation, preferring the room's shard.
    private nonisolated static func launch(
        _ handle: WorkHandle, on shard: Shard, context: RoomContext,
        _ body: @escaping @Sendable (RoomContext) async -> Void
    ) -> Task<Void, Never> {
        Task(executorPreference: shard) {
            await body(context)
            await context.workEnded(handle)
        }
    }

    private func workEnded(_ handle: WorkHandle) {
        work.remove(handle)
        updateKeepsActive()
    }

    func updateKeepsActive() {
        slot.keepsActive = keepsActiveFlag || work.keepsActive
    }

    /// Queues `work` as a turn of this room, behind the events already waiting: how code the room
    /// started outside its turns reports back to it (``RoomWork/report(_:)`` calls this).
    ///
    /// `work` receives the room instance and the context, like a hook: it may write storage,
    /// send and broadcast, and its output waits for its commit. It runs only in the activation
    /// that queued it: if the room hibernated or restarted in between, the job is dropped (the
    /// room's ``Room/onHibernate(context:)`` is where such work is wound up).
    ///
    /// - Returns: false when the room is leaving memory or gone (the job was dropped).
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

    /// Queues `work` as a turn of this room, like ``enqueue(_:_:)``, for code that needs the
    /// context but not the room instance.
    ///
    /// - Returns: false when the room is leaving memory or gone (the job was dropped).
    @discardableResult
    public nonisolated func enqueue(_ work: @escaping @Sendable (isolated RoomContext) async throws -> Void) -> Bool {
        slot.deliverIfActive(.job(RoomJob(origin: ObjectIdentifier(self)) { _, context in try await work(context) }))
    }

    /// Whether the room stays in memory while idle (default false). Set it while the room has
    /// work in flight that the runtime does not know of; work started with
    /// ``startWork(_:keepsActive:_:)`` keeps the room in memory by itself. It still leaves memory
    /// at shutdown, on deletion, and when the node needs its place for another room;
    /// ``Room/onHibernate(context:)`` runs then as always. Reset to false at every activation.
    public var keepsActive: Bool {
        get { keepsActiveFlag }
        set {
            keepsActiveFlag = newValue
            updateKeepsActive()
        }
    }
}
