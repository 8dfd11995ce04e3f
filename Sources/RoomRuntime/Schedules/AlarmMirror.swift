/// Keeps the node's copy of one room's next alarm (its row in the node directory, and the node's
/// alarm clock) in line with the room's schedules.
///
/// The room's own file is the truth. The directory must never say later than the room (else a
/// crash could leave a due schedule unfired until something else woke the room), so an earlier
/// alarm is written to the directory durably *before* the commit that stores it; a later one (or
/// none) is buffered and written with the directory's next flush. The clock is told after every
/// commit that changed the schedules.
struct AlarmMirror {
    let address: RoomAddress
    let directory: NodeDirectory
    let clock: AlarmClock
    /// The next alarm the directory and the clock were last told of.
    private(set) var reported: Int64?
    /// Whether turns since the last commit changed the schedules.
    var changed = false
    /// Whether the room has a directory row (it exists on disk).
    var inDirectory: Bool

    /// The mirror of a room just activated.
    init(address: RoomAddress, directory: NodeDirectory, clock: AlarmClock, inDirectory: Bool) {
        self.address = address
        self.directory = directory
        self.clock = clock
        self.inDirectory = inDirectory
    }

    /// Before a commit: the next due time once it is stored; an earlier one than the directory
    /// holds is recorded there first, durably.
    mutating func prepareCommit(storage: RoomStorage) throws -> Int64? {
        guard changed else { return reported }
        let next = try storage.nextScheduleDue()
        if inDirectory, let next, reported.map({ next < $0 }) ?? true {
            try directory.setNextAlarm(address, due: next)
        }
        return next
    }

    /// After the commit: the clock, and lazily the directory, learn of `next`.
    mutating func didCommit(_ next: Int64?) {
        guard changed else { return }
        changed = false
        if inDirectory, next != reported { directory.noteNextAlarm(address, due: next) }
        reported = next
        clock.set(address, due: next)
    }

    /// The room was just created on disk, its directory row holding `nextAlarm`.
    mutating func created(nextAlarm: Int64?) {
        inDirectory = true
        reported = nextAlarm
    }

    /// The room is active with its schedules' next due time `nextAlarm`: the clock is set.
    mutating func start(nextAlarm: Int64?) {
        reported = nextAlarm
        clock.set(address, due: nextAlarm)
    }

    /// While due schedules run: the clock comes back at `due` unless their commit sets it first
    /// (so that a batch that never commits is retried).
    mutating func lease(until due: Int64) {
        clock.set(address, due: due)
        changed = true
    }
}
