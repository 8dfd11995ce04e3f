/// Where a room is in its lifecycle. This is the one drawing of it.
///
/// ```
///                 an event arrives                 its file (or memory) is open,
///                 (connect, message, request,      onStart committed
///                  alarm, job)
///  ┌────────────┐ ─────────────► ┌────────────┐ ─────────────────► ┌────────┐
///  │ hibernated │                │ activating │                    │ active │ ◄─┐ one turn per event;
///  └────────────┘ ◄───────────── └────────────┘                    └────────┘ ──┘ a group commit per batch
///     ▲    │       failed to open: events refused,                     │
///     │    │       the file quarantined with backoff                   │ idle timeout, the cap or the
///     │    │                                                           │ budget needs its place,
///     │    │                                        ┌─────────────┐    │ shutdown, or DELETE
///     │    │                                        │ hibernating │ ◄──┘ (asked; served once the
///     │    │                                        └─────────────┘       mailbox is empty)
///     │    │   DELETE, or TTL expiry                       │ onSnapshot, onHibernate, commit,
///     │    ▼   of an unused room                           │ file closed; reactivates at once
///     │  ┌──────────┐   file and row removed,              │ if events arrived meanwhile
///     │  │ deleting │ ──────────────────────► removed      │
///     │  └──────────┘   sockets closed with 4404           │
///     └────────────────────────────────────────────────────┘
/// ```
///
/// - A *slot* (``RoomSlot``) exists while the room is live, has open connections, or has events
///   queued; a hibernated room with neither is `removed` from the runtime's table, and the next
///   event makes a fresh slot.
/// - Connections outlive hibernation: a `hibernated` slot keeps its sockets, tags and attachments.
/// - A room whose file does not exist yet activates on an in-memory database and is *created*
///   (registered in the directory, written to its file) by the first commit that holds an accepted
///   connection or a stored write of a client, a schedule or the room's own work. Until then it is
///   not listed and leaves nothing on disk when it hibernates.
enum RoomPhase: Sendable, Equatable {
    /// Not in memory; the next event activates it.
    case hibernated
    /// Waiting for a place under the active-room cap, or opening its file and running `onStart`.
    case activating
    /// Live: its turn loop serves the mailbox.
    case active
    /// Running its snapshot and hibernate hooks and closing its file.
    case hibernating
    /// Being deleted: its file and directory row are going; events wait to be refused.
    case deleting
    /// Dropped from the runtime's table; a new slot serves the room.
    case removed
}
