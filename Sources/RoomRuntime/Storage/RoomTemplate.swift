import Synchronization

/// The database a class's migrations build from nothing, made once per process and copied into
/// the in-memory database of every room of the class that does not exist yet (and of every
/// activation of an ephemeral room), instead of running the migrations again for each: they were
/// a fifth of the CPU of creating a chat room (eleven tables, each step a transaction of GRDB's
/// migrator).
///
/// Each ``RoomMigrations`` value owns one; adding a step gives it a new, empty one.
final class RoomTemplate: Sendable {
    private let image = Mutex<RoomFileImage?>(nil)

    /// The template, built by `build` the first time it is asked for. Two rooms of the class being
    /// created at once on two shards may both build it; the first one stored is kept.
    func image(building build: () throws -> RoomFileImage) throws -> RoomFileImage {
        if let image = image.withLock({ $0 }) { return image }
        let built = try build()
        return image.withLock { stored in
            if let stored { return stored }
            stored = built
            return built
        }
    }
}
