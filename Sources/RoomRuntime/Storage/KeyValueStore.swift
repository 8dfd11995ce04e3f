import Foundation
import GRDB

/// A room's key-value store: small Codable values by string key, stored as JSON.
///
/// ```swift
/// try context.storage.kv.set("settings", Settings(topic: "lunch"))
/// let settings = try context.storage.kv.get("settings", as: Settings.self)
/// ```
///
/// Writes join the current turn like every storage write.
public struct KeyValueStore {
    let storage: RoomStorage

    /// The value stored under `key`, or nil.
    public func get<T: Decodable>(_ key: String, as type: T.Type) throws -> T? {
        let data = try storage.readOwnQuery { db in
            try Data.fetchOne(db.cachedStatement(sql: "SELECT value FROM _rooms_kv WHERE key = ?"), arguments: [key])
        }
        guard let data else { return nil }
        return try JSONDecoder().decode(T.self, from: data)
    }

    /// Stores `value` under `key`, replacing what was there.
    public func set<T: Encodable>(_ key: String, _ value: T) throws {
        let data = try JSONEncoder().encode(value)
        try storage.write { db in
            try db.cachedStatement(sql: "INSERT OR REPLACE INTO _rooms_kv (key, value) VALUES (?, ?)")
                .execute(arguments: [key, data])
        }
    }

    /// Removes the value under `key`, if any.
    public func remove(_ key: String) throws {
        try storage.write { db in
            try db.cachedStatement(sql: "DELETE FROM _rooms_kv WHERE key = ?").execute(arguments: [key])
        }
    }

    /// Every key starting with `prefix`, sorted.
    public func keys(prefix: String = "") throws -> [String] {
        try storage.readOwnQuery { db in
            try String.fetchAll(
                db.cachedStatement(sql: "SELECT key FROM _rooms_kv WHERE substr(key, 1, ?) = ? ORDER BY key"),
                arguments: [prefix.unicodeScalars.count, prefix])
        }
    }
}
