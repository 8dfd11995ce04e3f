import ArgumentParser

/// The `rooms` command line.
@main
struct Rooms: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rooms",
        abstract: "DurableRooms: durable, hibernating rooms over WebSocket and HTTP.",
        subcommands: [Serve.self, Bench.self, Token.self, Check.self, Backup.self, Restore.self])
}
