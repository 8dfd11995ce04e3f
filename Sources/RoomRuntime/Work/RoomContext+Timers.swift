extension RoomContext {
    /// Sets the timer `name` to fire ``Room/onTimer(_:context:)`` after `delay`, replacing the
    /// timer of that name if one is set.
    ///
    /// Timers live in memory only: they fire as a turn of the room, in order with its other
    /// events, while the room stays active, and are dropped when it leaves memory (they do not
    /// keep it there). Use them for what may be lost with memory: a throttled frame to send
    /// later, a debounce. What must happen after a restart too is a durable schedule
    /// (``schedule(_:_:retry:)``).
    ///
    /// ```swift
    /// context.setTimer("flush", after: .milliseconds(250))
    /// ```
    public func setTimer(_ name: String, after delay: Duration) {
        timers[name]?.task.cancel()
        let origin = ObjectIdentifier(self)
        let slot = slot
        let number = work.reserve().id
        let task = Task(executorPreference: slot.shard) {
            do {
                try await Task.sleep(for: delay)
            } catch {
                return
            }
            slot.deliverIfActive(
                .job(
                    RoomJob(origin: origin) { room, context in
                        // A timer cancelled or set again after this job was queued does not fire.
                        guard context.timers[name]?.number == number else { return }
                        context.timers[name] = nil
                        try await room.onTimer(name, context: context)
                    }))
        }
        timers[name] = RoomTimer(number: number, task: task)
    }

    /// Cancels the timer `name`; false when none was set.
    @discardableResult
    public func cancelTimer(_ name: String) -> Bool {
        guard let timer = timers.removeValue(forKey: name) else { return false }
        timer.task.cancel()
        return true
    }

    /// Whether the timer `name` is set and has not fired yet.
    public func hasTimer(_ name: String) -> Bool {
        timers[name] != nil
    }

    /// Drops every timer (the room is leaving memory).
    func cancelTimers() {
        for timer in timers.values { timer.task.cancel() }
        timers.removeAll()
    }
}
