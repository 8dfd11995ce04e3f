import BuiltInRooms
import ArgumentParser
import Foundation
import RoomBench
import Logging
@_spi(Node) import RoomRuntime
import RoomServer
import UnixSignals

/// `rooms serve`: runs a node until SIGINT or SIGTERM.
struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run a DurableRooms server.",
        discussion: """
            Without --config, runs on the embedded defaults: 127.0.0.1:8080, data in ./data, \
            one kind "chat". The options below override the file. SIGINT or SIGTERM stops the \
            server gracefully.
            """)

    @Option(help: "The configuration file (JSON; see docs/CONFIGURATION.md).")
    var config: String?

    @Option(help: "The address to listen on (server.host).")
    var host: String?

    @Option(help: "The TCP port; 0 picks a free one (server.port).")
    var port: Int?

    @Option(name: .customLong("data-dir"), help: "The data directory (storage.directory).")
    var dataDirectory: String?

    @Option(
        name: .customLong("idle-timeout"),
        help: "Seconds without events before a room hibernates (runtime.idleTimeoutSeconds).")
    var idleTimeout: Double?

    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error or critical (log.level).")
    var logLevel: String?

    func validate() throws {
        if let port, !(0...65_535).contains(port) {
            throw ValidationError("--port must be from 0 to 65535")
        }
        if let idleTimeout, !(idleTimeout > 0) {
            throw ValidationError("--idle-timeout must be a positive number of seconds")
        }
        if let logLevel, Logger.Level(rawValue: logLevel) == nil {
            throw ValidationError("--log-level must be one of trace, debug, info, notice, warning, error, critical")
        }
        if let host, host.isEmpty {
            throw ValidationError("--host must not be empty")
        }
    }

    func run() async throws {
        // Every socket and every open room file is a descriptor: take what the system allows.
        BenchRunner.raiseFileLimit()
        let configuration: ServerConfiguration
        do {
            configuration = try loadConfiguration()
        } catch {
            FileHandle.standardError.write(Data("rooms: configuration error: \(error)\n".utf8))
            throw ExitCode(2)
        }
        let level = configuration.logLevel
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "rooms")
        let server: RoomServer
        do {
            server = try await RoomServer(configuration: configuration, logger: logger, signals: [.sigterm, .sigint])
        } catch let error as ConfigurationError {
            // A key set that cannot be read, a secret not in the environment: a bad configuration.
            logger.critical("configuration error: \(error)")
            throw ExitCode(2)
        } catch let error as NodeLockError {
            // Another node holds the directory: a usage error, like a bad configuration.
            logger.critical("cannot start: \(error)")
            throw ExitCode(2)
        } catch {
            logger.critical("cannot start: \(error)")
            throw ExitCode(1)
        }
        do {
            try await server.run()
        } catch {
            logger.critical("server failed: \(error)")
            throw ExitCode(1)
        }
        logger.info("stopped")
    }

    private func loadConfiguration() throws -> ServerConfiguration {
        let classes = BuiltInRoomClasses.registry
        var configuration =
            try config.map { try ServerConfiguration.load(path: $0, classes: classes) }
            ?? ServerConfiguration.defaults(classes: classes)
        if let host { configuration.host = host }
        if let port { configuration.port = port }
        if let dataDirectory { configuration.runtime.dataDirectory = URL(fileURLWithPath: dataDirectory) }
        if let idleTimeout { configuration.runtime.idleTimeout = .milliseconds(Int64(idleTimeout * 1000)) }
        if let logLevel, let level = Logger.Level(rawValue: logLevel) { configuration.logLevel = level }
        return configuration
    }
}
