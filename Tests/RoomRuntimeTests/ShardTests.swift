import Foundation
import Synchronization
import TestSupport
import Testing

@_spi(Node) @testable import RoomRuntime

/// An actor pinned to a shard, recording where its methods ran.
actor PinnedCounter {
    let shard: Shard
    var value = 0
    var concurrent = 0
    var maxConcurrent = 0
    var ranOnShard = true

    init(shard: Shard) { self.shard = shard }

    nonisolated var unownedExecutor: UnownedSerialExecutor { shard.asUnownedSerialExecutor() }

    func increment() async {
        concurrent += 1
        maxConcurrent = max(maxConcurrent, concurrent)
        ranOnShard = ranOnShard && shard.isCurrent
        value += 1
        await Task.yield()
        concurrent -= 1
    }
}

@Suite("Shards", .watched)
struct ShardTests {
    @Test("an actor pinned to a shard runs on the shard's thread, one job at a time")
    func actorsRunOnTheirShard() async throws {
        let router = Router(shardCount: 2)
        defer { router.shutdown() }
        let counters = router.shards.map { PinnedCounter(shard: $0) }
        await withTaskGroup(of: Void.self) { group in
            for index in 0..<2_000 {
                group.addTask { await counters[index % 2].increment() }
            }
        }
        for counter in counters {
            #expect(await counter.value == 1_000)
            #expect(await counter.ranOnShard)
        }
        #expect(!router.shards[0].isCurrent)
    }

    @Test("a task preferring a shard runs its nonisolated code there")
    func taskExecutorPreference() async {
        let shard = Shard(index: 7)
        defer { shard.shutdown() }
        let onShard = await Task(executorPreference: shard) { shard.isCurrent }.value
        #expect(onShard)
    }

    @Test("shutdown runs the jobs already queued, then ends the thread")
    func shutdownDrains() async {
        let shard = Shard(index: 0)
        let ran = RunCounter()
        for _ in 0..<100 {
            Task(executorPreference: shard) { ran.count.add(1, ordering: .relaxed) }
        }
        shard.shutdown()
        #expect(ran.count.load(ordering: .relaxed) == 100)
    }
}

final class RunCounter: Sendable {
    let count = Atomic<Int>(0)
}
