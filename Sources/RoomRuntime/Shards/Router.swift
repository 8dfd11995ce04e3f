public import Foundation

/// Places every room on one of a fixed set of shards by a stable hash of its address.
///
/// The placement depends only on `kind/id` and the shard count: the same room is on the same
/// shard in every process (``StableHash``), so a room's file is only ever opened by one thread.
@_spi(Node)
public final class Router: Sendable {
    /// The shards, indexed by ``Shard/index``.
    public let shards: [Shard]

    /// Starts `count` shard threads (default: one per active processor).
    public init(shardCount count: Int = ProcessInfo.processInfo.activeProcessorCount) {
        precondition(count > 0, "a router needs at least one shard")
        shards = (0..<count).map { Shard(index: $0) }
    }

    /// The index of the shard that runs `address`, for a router of `shardCount` shards.
    public static func shardIndex(for address: RoomAddress, shardCount: Int) -> Int {
        StableHash.jumpBucket(StableHash.fnv1a64(address.path), buckets: shardCount)
    }

    /// The shard that runs `address`.
    public func shard(for address: RoomAddress) -> Shard {
        shards[Self.shardIndex(for: address, shardCount: shards.count)]
    }

    /// Stops every shard thread once its queued jobs have run.
    public func shutdown() {
        for shard in shards { shard.shutdown() }
    }
}
