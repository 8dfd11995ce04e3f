import ArgumentParser
import Foundation
import RoomBench

/// `rooms bench SCENARIO`: the load harness.
struct Bench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Drive a DurableRooms server over real sockets and measure it.",
        discussion: """
            Scenarios: fanout (1 room, --clients listeners, 1 sender), rooms (--rooms x --clients, every client \
            sending), ingest (1 room or --rooms, 32 HTTP writers, 1 listener), direct (--rooms direct rooms, default \
            32, 32 HTTP writers posting as members: the inbox outbox on every message), activation (--rooms rooms created, hibernated, \
            then woken), idle (--clients idle connections on hibernated rooms), ai (AI rooms streaming answers), \
            doc (1 document or --rooms, --clients editors, default 20, each an OT client with one edit in flight), \
            slow (1 room, --clients readers, default 1,000, at --rate, default 100 msg/s, measured calm, then beside one \
            listener that stops reading and one client flooding without reading), soak (a mixed workload for --duration \
            seconds: chat, fan-out, hibernation churn with schedules, AI streams; the server's memory, descriptors and \
            open databases sampled every --sample-every seconds). \
            Run from the repository's root (the node peer lives in Benchmarks/peers). See docs/BENCHMARKS.md.
            """)

    @Argument(help: "fanout, rooms, ingest, direct, activation, idle, ai, doc, slow or soak")
    var scenario: String

    @Option(help: "A running server, http://HOST:PORT.")
    var url: String?

    @Flag(help: "Start a server of our own (this executable) for the run, and stop it after.")
    var spawn = false

    @Option(help: "The PID of the server at --url, to report its CPU and memory.")
    var serverPID: Int32?

    @Option(help: "Seconds measured, after the warm-up (default 10; slow: 60, the misbehaving window, past the ping timeout; soak: the whole run).")
    var duration: Double?

    @Option(help: "Seconds of load before measuring.")
    var warmup: Double = 2

    @Option(help: "Rooms (default per scenario).")
    var rooms: Int?

    @Option(help: "Clients per room (fanout: listeners; idle: connections in all).")
    var clients: Int?

    @Option(help: "Messages per second in total, or max (the default; slow: 100).")
    var rate: String?

    /// `--rate`, or the scenario's default.
    private var rateArgument: String { rate ?? (scenario == Scenario.slow.rawValue ? "100" : "max") }

    @Option(help: "Bytes of text per message.")
    var size: Int = 64

    @Flag(help: "Raw frames to relay rooms instead of the chat protocol (fanout, rooms).")
    var raw = false

    @Option(help: "fanout: how the listeners connect: websocket, sse (Server-Sent Events streams) or stomp (STOMP subscriptions).")
    var listeners: String = "websocket"

    @Option(help: "Also run the scenario against a peer and report the ratio: node.")
    var peer: String?

    @Option(help: "Threads of the harness's event loops.")
    var clientThreads: Int = 1

    @Option(help: "Tokens per second of each answer (ai, spawned server).")
    var tokensPerSecond: Double = 50

    @Option(help: "soak: seconds between two samples of the server.")
    var sampleEvery: Double = 60

    @Option(help: "Write the report as JSON to this file.")
    var json: String?

    @Option(help: "Run the scenario this many times (each against a fresh server when spawning, alternating with the peer); report every run and the median and spread.")
    var runs: Int = 1

    @Option(name: .customLong("slo-p99"), help: "Search the highest rate held with latency p99 within this many milliseconds, no error and 95 % of the rate achieved (fanout, rooms, ingest, direct; --rate is where the search starts).")
    var sloP99: Double?

    @Option(help: "fanout in a cluster: read the room through this node (http://HOST:PORT) first, so that it owns the room and a run against another node measures forwarded connections.")
    var placeVia: String?

    func validate() throws {
        guard Scenario(rawValue: scenario) != nil else {
            throw ValidationError("unknown scenario '\(scenario)'; one of \(Scenario.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        guard (url != nil) != spawn else { throw ValidationError("give exactly one of --url and --spawn") }
        guard Rate(argument: rateArgument) != nil else { throw ValidationError("--rate must be a positive number or max") }
        guard Listeners(rawValue: listeners) != nil else { throw ValidationError("--listeners is websocket, sse or stomp") }
    }

    func run() async throws {
        let options = BenchOptions(
            scenario: Scenario(rawValue: scenario)!, url: url, serverPID: serverPID,
            duration: duration ?? (scenario == Scenario.slow.rawValue ? 60 : 10), warmup: warmup,
            rooms: rooms, clients: clients, rate: Rate(argument: rateArgument)!, size: size, raw: raw,
            listeners: Listeners(rawValue: listeners)!, peer: peer,
            clientThreads: clientThreads, tokensPerSecond: tokensPerSecond, runs: runs, sloP99Millis: sloP99,
            sampleEverySeconds: sampleEvery, placeVia: placeVia)
        do {
            let report = try await BenchRunner.run(options) { line in
                FileHandle.standardError.write(Data("bench: \(line)\n".utf8))
            }
            print(report.table, terminator: "")
            if let json {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
                try encoder.encode(report).write(to: URL(fileURLWithPath: json))
            }
        } catch let error as BenchError {
            throw ValidationError(error.description)
        }
    }
}
