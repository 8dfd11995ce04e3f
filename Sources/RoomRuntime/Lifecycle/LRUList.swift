/// Keys in least-recently-used order, with O(1) touch, removal and access to the oldest.
struct LRUList<Key: Hashable> {
    private struct Links {
        var older: Key?
        var newer: Key?
    }

    private var links: [Key: Links] = [:]
    /// The least recently touched key.
    private(set) var oldest: Key?
    private var newest: Key?

    var count: Int { links.count }

    func contains(_ key: Key) -> Bool { links[key] != nil }

    /// Makes `key` the most recently used, adding it if absent.
    mutating func touch(_ key: Key) {
        remove(key)
        links[key] = Links(older: newest, newer: nil)
        if let newest { links[newest]!.newer = key }
        newest = key
        if oldest == nil { oldest = key }
    }

    /// Removes `key` if present.
    mutating func remove(_ key: Key) {
        guard let removed = links.removeValue(forKey: key) else { return }
        if let older = removed.older { links[older]!.newer = removed.newer } else { oldest = removed.newer }
        if let newer = removed.newer { links[newer]!.older = removed.older } else { newest = removed.older }
    }

    /// Calls `body` with keys from the oldest on, while it returns true.
    func forEachFromOldest(_ body: (Key) -> Bool) {
        var next = oldest
        while let key = next {
            guard body(key) else { return }
            next = links[key]?.newer
        }
    }
}
