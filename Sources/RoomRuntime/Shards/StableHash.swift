/// Hashes that give the same answer in every process, on every machine, forever.
///
/// Swift's `Hasher` is seeded per process, so it cannot place rooms: a room must land on the same
/// shard after a restart, and (later) the same node in a cluster. These functions are fixed: changing
/// them moves rooms between shards, so the tests pin their outputs.
@_spi(Node)
public enum StableHash {
    /// 64-bit FNV-1a over the bytes of `text` (UTF-8).
    ///
    /// See <http://www.isthe.com/chongo/tech/comp/fnv/>: offset basis 14695981039346656037,
    /// prime 1099511628211.
    @inlinable
    public static func fnv1a64(_ text: String) -> UInt64 {
        var hash: UInt64 = 14_695_981_039_346_656_037
        for byte in text.utf8 {
            hash ^= UInt64(byte)
            hash &*= 1_099_511_628_211
        }
        return hash
    }

    /// Jump consistent hash (Lamping and Veach, 2014): maps `key` to a bucket in `0..<buckets`.
    ///
    /// Keys spread evenly, and growing from `n` to `n + 1` buckets moves only about `1/(n + 1)` of
    /// them, which keeps most rooms in place when the shard count (or, later, the node count) changes.
    /// See <https://arxiv.org/abs/1406.2294>.
    @inlinable
    public static func jumpBucket(_ key: UInt64, buckets: Int) -> Int {
        precondition(buckets > 0, "at least one bucket")
        var key = key
        var b: Int64 = -1
        var j: Int64 = 0
        while j < Int64(buckets) {
            b = j
            key = key &* 2_862_933_555_777_941_757 &+ 1
            j = Int64(Double(b + 1) * (Double(Int64(1) << 31) / Double((key >> 33) &+ 1)))
        }
        return Int(b)
    }
}
