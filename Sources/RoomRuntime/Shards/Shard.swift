#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import DequeModule
import Foundation

/// One OS thread that runs the rooms hashed to it, one job at a time.
///
/// A shard is the executor of every live room the ``Router`` maps to it: a room's hooks and its
/// SQLite calls all run on this thread, so room code needs no locks, and many rooms share a thread
/// without ever running on two at once. It is both a `SerialExecutor` (rooms are actors pinned to
/// it) and a `TaskExecutor` (tasks that feed a room prefer it, so they reach the room without a
/// thread hop).
///
/// Jobs run in the order they were enqueued. The thread sleeps on a condition variable when it has
/// nothing to do, and `enqueue` only signals it when it sleeps, so a busy shard takes new work
/// without system calls.
@_spi(Node)
public final class Shard: SerialExecutor, TaskExecutor, @unchecked Sendable {
    // @unchecked Sendable: every mutable field below is read and written only while holding
    // `mutex`, except `thread`, which is written once before `init` returns.

    /// The shard's position in its router, from 0.
    public let index: Int

    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private let wakeUp: UnsafeMutablePointer<pthread_cond_t>
    private var queue = Deque<UnownedJob>()
    private var sleeping = false
    private var stopping = false
    private var thread: pthread_t?

    /// Starts the shard's thread, named `shard-INDEX`.
    public init(index: Int) {
        self.index = index
        mutex = .allocate(capacity: 1)
        pthread_mutex_init(mutex, nil)
        wakeUp = .allocate(capacity: 1)
        pthread_cond_init(wakeUp, nil)
        start()
    }

    deinit {
        pthread_cond_destroy(wakeUp)
        wakeUp.deallocate()
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }

    /// Jobs waiting to run on this shard now (a gauge, for metrics).
    public var pendingJobs: Int {
        withLock { queue.count }
    }

    public func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        let wake: Bool = withLock {
            queue.append(job)
            return sleeping
        }
        if wake { pthread_cond_signal(wakeUp) }
    }

    public func asUnownedSerialExecutor() -> UnownedSerialExecutor {
        UnownedSerialExecutor(ordinary: self)
    }

    /// True when the caller runs on this shard's thread.
    public var isCurrent: Bool {
        guard let thread else { return false }
        return pthread_equal(pthread_self(), thread) != 0
    }

    public func checkIsolated() {
        precondition(isCurrent, "expected to run on shard \(index)")
    }

    /// Runs the jobs already queued, then stops the thread and waits for it to end.
    ///
    /// Jobs enqueued after this call never run: call it only once nothing can reach the shard.
    public func shutdown() {
        withLock { stopping = true }
        pthread_cond_signal(wakeUp)
        if let thread, !isCurrent { pthread_join(thread, nil) }
    }

    private func withLock<T>(_ body: () throws -> T) rethrows -> T {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body()
    }

    private func start() {
        let box = Unmanaged.passRetained(self)
        var thread = pthread_t()
        // The new thread publishes its own id under the lock before running any job, and `init`
        // waits for that, so `isCurrent` is right from the first job on.
        let started = pthread_create(&thread, nil, { raw in
            let shard = Unmanaged<Shard>.fromOpaque(raw!).takeRetainedValue()
            shard.runLoop()
            return nil
        }, box.toOpaque())
        precondition(started == 0, "could not start shard thread: \(started)")
        withLock { self.thread = thread }
    }

    private func runLoop() {
        Thread.current.name = "shard-\(index)"
        // Wait until `start` has recorded the thread id.
        while withLock({ thread == nil }) { sched_yield() }

        var batch = Deque<UnownedJob>()
        let serial = asUnownedSerialExecutor()
        let task = asUnownedTaskExecutor()
        while true {
            pthread_mutex_lock(mutex)
            while queue.isEmpty && !stopping {
                sleeping = true
                pthread_cond_wait(wakeUp, mutex)
                sleeping = false
            }
            if queue.isEmpty && stopping {
                pthread_mutex_unlock(mutex)
                return
            }
            swap(&batch, &queue)
            pthread_mutex_unlock(mutex)

            while let job = batch.popFirst() {
                job.runSynchronously(isolatedTo: serial, taskExecutor: task)
            }
        }
    }
}
