/// The work a live room runs outside its turns: the tasks, and which keep the room in memory.
struct WorkRegistry {
    private var tasks: [WorkHandle: (task: Task<Void, Never>, keepsActive: Bool)] = [:]
    private var nextID: UInt64 = 1

    /// Whether work that keeps the room in memory is running.
    var keepsActive: Bool { tasks.values.contains { $0.keepsActive } }

    /// A handle for work about to start.
    mutating func reserve() -> WorkHandle {
        defer { nextID += 1 }
        return WorkHandle(id: nextID)
    }

    mutating func add(_ handle: WorkHandle, task: Task<Void, Never>, keepsActive: Bool) {
        tasks[handle] = (task, keepsActive)
    }

    func contains(_ handle: WorkHandle) -> Bool { tasks[handle] != nil }

    /// The work ended by itself.
    mutating func remove(_ handle: WorkHandle) {
        tasks.removeValue(forKey: handle)
    }

    /// Cancels the work and forgets it.
    mutating func cancel(_ handle: WorkHandle) {
        tasks.removeValue(forKey: handle)?.task.cancel()
    }

    /// Cancels every task (the room is leaving memory).
    mutating func cancelAll() {
        for entry in tasks.values { entry.task.cancel() }
        tasks.removeAll()
    }
}
