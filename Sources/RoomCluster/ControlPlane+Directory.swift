import Foundation
import PostgresNIO
@_spi(Node) public import RoomRuntime

/// The cluster's room directory in PostgreSQL (`rooms_directory`): each node copies its own
/// directory's changes there (``record(_:)``), `GET /rooms` lists it, and the schedules of rooms
/// no live node owns are found there (``orphanedAlarms(dueBy:limit:)``), and the rooms a kind's
/// `ttl` expires (``untouched(kind:since:limit:)``).
@_spi(Node)
extension ControlPlane: DirectoryMirror {
    /// Records `changes` in one statement per kind of change: the newest facts win (the latest
    /// activity, the highest sequence), a deletion removes the row.
    public func record(_ changes: [DirectoryChange]) async throws {
        let kept = changes.filter { !$0.removed }
        let removed = changes.filter(\.removed)
        guard !changes.isEmpty else { return }
        try await database("cannot copy the room directory") { [self] () async throws -> Void in
            if !kept.isEmpty {
                // Arrays of plain values (postgres-nio binds no optional elements): -1 stands for
                // "not known", and `alarm_set` says whether next_alarm changed (-1: to none).
                let kinds = kept.map(\.address.kind)
                let ids = kept.map(\.address.id)
                let created = kept.map { $0.createdAt ?? -1 }
                let active = kept.map { $0.lastActiveAt }
                let isActive = kept.map { $0.isActive.map { $0 ? Int64(1) : 0 } ?? -1 }
                let sequences = kept.map { $0.lastSequence ?? -1 }
                let alarmSet = kept.map { $0.nextAlarm != nil }
                let alarms = kept.map { ($0.nextAlarm ?? nil) ?? -1 }
                // New rows are inserted; existing ones updated with what is known (the
                // UPDATE does not see the rows the INSERT of the same statement added).
                try await client.query(
                    """
                    WITH c AS (
                        SELECT * FROM unnest(\(kinds)::text[], \(ids)::text[], \(created)::bigint[], \(active)::bigint[],
                            \(isActive)::bigint[], \(sequences)::bigint[], \(alarmSet)::boolean[], \(alarms)::bigint[])
                            AS c(kind, id, created, last_active, is_active, seq, alarm_set, alarm)
                    ), inserted AS (
                        INSERT INTO rooms_directory (kind, id, created_at, last_active_at, active, last_seq, next_alarm)
                        SELECT kind, id, CASE WHEN created >= 0 THEN created ELSE last_active END, last_active,
                            is_active = 1, greatest(seq, 0), CASE WHEN alarm_set AND alarm >= 0 THEN alarm END
                        FROM c
                        ON CONFLICT (kind, id) DO NOTHING
                        RETURNING kind, id
                    )
                    UPDATE rooms_directory d SET
                        created_at = CASE WHEN c.created >= 0 THEN least(d.created_at, c.created) ELSE d.created_at END,
                        last_active_at = greatest(d.last_active_at, c.last_active),
                        active = CASE WHEN c.is_active >= 0 THEN c.is_active = 1 ELSE d.active END,
                        last_seq = greatest(d.last_seq, c.seq),
                        next_alarm = CASE WHEN c.alarm_set THEN (CASE WHEN c.alarm >= 0 THEN c.alarm END) ELSE d.next_alarm END
                    FROM c
                    WHERE d.kind = c.kind AND d.id = c.id
                        AND NOT EXISTS (SELECT 1 FROM inserted i WHERE i.kind = c.kind AND i.id = c.id)
                    """, logger: logger)
            }
            if !removed.isEmpty {
                try await client.query(
                    """
                    DELETE FROM rooms_directory d USING unnest(\(removed.map(\.address.kind))::text[], \(removed.map(\.address.id))::text[])
                        AS r(kind, id)
                    WHERE d.kind = r.kind AND d.id = r.id
                    """, logger: logger)
            }
        }
    }

    /// A page of the cluster's rooms in (kind, id) order: those of `kind` (every kind when nil)
    /// whose id starts with `prefix`, after `after`, at most `limit`.
    public func listRooms(kind: String?, prefix: String, after: RoomAddress?, limit: Int) async throws(ClusterError)
        -> [DirectoryEntry]
    {
        try await database("cannot list the rooms") { [self] () async throws -> [DirectoryEntry] in
            // '' is "no filter": one statement for every combination. Ids sort by their UTF-8
            // bytes (COLLATE "C"), as a lone node's directory does.
            let rows = try await client.query(
                """
                SELECT kind, id, created_at, last_active_at, active, last_seq FROM rooms_directory
                WHERE (\(kind ?? "") = '' OR kind = \(kind ?? ""))
                    AND starts_with(id, \(prefix))
                    AND (\(after == nil) OR (kind COLLATE "C", id COLLATE "C") > (\(after?.kind ?? ""), \(after?.id ?? "")))
                ORDER BY kind COLLATE "C", id COLLATE "C" LIMIT \(limit)
                """, logger: logger)
            var entries: [DirectoryEntry] = []
            for try await (kind, id, created, lastActive, active, sequence) in rows.decode(
                (String, String, Int64, Int64, Bool, Int64).self)
            {
                guard let address = try? RoomAddress(kind: kind, id: id) else { continue }
                entries.append(
                    DirectoryEntry(
                        address: address, file: "", createdAt: created, lastActiveAt: lastActive, isActive: active,
                        lastSequence: sequence))
            }
            return entries
        }
    }

    /// Rooms of `kind` last active before `time` (milliseconds since 1970), with no schedule, that
    /// no live node other than this incarnation owns, oldest first.
    public func untouched(kind: String, since time: Int64, limit: Int) async throws -> [RoomAddress] {
        try await database("cannot read the rooms to expire") { [self] () async throws -> [RoomAddress] in
            let rows = try await client.query(
                """
                SELECT d.kind, d.id FROM rooms_directory d
                LEFT JOIN rooms_owners o ON o.kind = d.kind AND o.id = d.id
                LEFT JOIN rooms_nodes n ON n.id = o.owner AND n.incarnation = o.owner_incarnation AND n.lease_expires_at > now()
                WHERE d.kind = \(kind) AND d.last_active_at < \(time) AND d.next_alarm IS NULL
                    AND (n.id IS NULL OR (n.id = \(node.id) AND n.incarnation = \(node.incarnation)))
                ORDER BY d.last_active_at LIMIT \(limit)
                """, logger: logger)
            var addresses: [RoomAddress] = []
            for try await (kind, id) in rows.decode((String, String).self) {
                if let address = try? RoomAddress(kind: kind, id: id) { addresses.append(address) }
            }
            return addresses
        }
    }

    /// Rooms with a schedule due by `time` (milliseconds since 1970) that no live node owns: their
    /// owner stopped, or crashed and its lease lapsed. Any node may activate them (the control
    /// plane gives each to one).
    public func orphanedAlarms(dueBy time: Int64, limit: Int) async throws(ClusterError) -> [RoomAddress] {
        try await database("cannot read the rooms' schedules") { [self] () async throws -> [RoomAddress] in
            let rows = try await client.query(
                """
                SELECT d.kind, d.id FROM rooms_directory d
                LEFT JOIN rooms_owners o ON o.kind = d.kind AND o.id = d.id
                LEFT JOIN rooms_nodes n ON n.id = o.owner AND n.incarnation = o.owner_incarnation AND n.lease_expires_at > now()
                WHERE d.next_alarm IS NOT NULL AND d.next_alarm <= \(time) AND n.id IS NULL
                ORDER BY d.next_alarm LIMIT \(limit)
                """, logger: logger)
            var addresses: [RoomAddress] = []
            for try await (kind, id) in rows.decode((String, String).self) {
                if let address = try? RoomAddress(kind: kind, id: id) { addresses.append(address) }
            }
            return addresses
        }
    }
}
