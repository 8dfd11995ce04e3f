import Foundation
import HTTPTypes
import TestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

@Suite("The rooms executable", .watched)
struct ProcessTests {
    @Test(
        "a client written in Python from the protocol document alone: chat, hibernation, SIGTERM, restart, kill -9",
        .enabled(if: RoomsBinary.which("python3") != nil, "needs python3 (.ci/run installs it)"))
    func pythonClient() async throws {
        let script = RoomsBinary.packageRoot.appendingPathComponent("examples/python/interop_check.py").path
        let (status, output) = try await RoomsBinary.run(
            RoomsBinary.which("python3")!, [script, RoomsBinary.url.path], timeout: .seconds(180))
        #expect(status == 0, "\(output)")
        #expect(output.hasSuffix("PASS\n"), "\(output)")
    }

    @Test(
        "bad command lines and configuration files are refused with a clear message",
        arguments: [
            (["serve", "--port", "70000"], "--port must be from 0 to 65535"),
            (["serve", "--idle-timeout=-1"], "--idle-timeout must be a positive number"),
            (["serve", "--log-level", "loud"], "--log-level must be one of"),
            (["serve", "--config", "/nonexistent/rooms.json"], "cannot read the file"),
            (["serve", "--config", "Tests/RoomServerTests/Fixtures/unknown-key.json"], "server.prot: unknown key"),
            (["bogus"], "Unexpected argument"),
            (["bench", "nope", "--spawn"], "unknown scenario 'nope'"),
            (["bench", "fanout"], "give exactly one of --url and --spawn"),
            (["bench", "fanout", "--url", "ftp://x"], "--url must look like"),
            (["bench", "fanout", "--spawn", "--rate", "fast"], "--rate must be a positive number or max"),
            (["bench", "idle", "--spawn", "--raw"], "--raw applies to fanout and rooms"),
            (["bench", "fanout", "--spawn", "--listeners", "pigeons"], "--listeners is websocket, sse or stomp"),
            (["bench", "rooms", "--spawn", "--listeners", "sse"], "--listeners sse applies to fanout"),
            (["bench", "fanout", "--spawn", "--listeners", "sse", "--raw"], "--listeners sse applies to fanout"),
            (["bench", "idle", "--spawn", "--listeners", "stomp"], "--listeners stomp applies to fanout"),
            (["bench", "fanout", "--spawn", "--peer", "redis"], "the only peer is 'node'"),
            (["bench", "fanout", "--spawn", "--size", "3"], "--size must be"),
            (["bench", "fanout", "--spawn", "--runs", "0"], "--runs must be from 1 to 100"),
            (["bench", "fanout", "--spawn", "--runs", "many"], "--runs"),
            (["bench", "fanout", "--spawn", "--slo-p99", "0"], "--slo-p99 must be from 0 to 60000"),
            (["bench", "idle", "--spawn", "--slo-p99", "20"], "--slo-p99 searches a rate"),
            (["bench", "rooms", "--spawn", "--slo-p99", "20", "--runs", "2"], "--slo-p99 and --runs do not go together"),
            (["bench", "slow", "--spawn", "--rate", "max"], "slow measures latency at a steady rate"),
            (["bench", "soak", "--spawn", "--sample-every", "0"], "--sample-every must be positive"),
            (["bench", "soak", "--spawn", "--sample-every", "often"], "--sample-every"),
        ])
    func refusedCommandLines(arguments: [String], message: String) async throws {
        let (status, output) = try await RoomsBinary.run(RoomsBinary.url.path, arguments, timeout: .seconds(30))
        #expect(status != 0)
        #expect(output.contains(message), "\(output)")
    }

    /// A socket listening on a free loopback port, and the port.
    static func listeningSocket() throws -> (fd: Int32, port: Int) {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, length) == 0 && listen(fd, 8) == 0 && getsockname(fd, $0, &length) == 0
            }
        }
        guard fd >= 0, bound else { throw TestFailure("cannot listen on a loopback port: errno \(errno)") }
        return (fd, Int(UInt16(bigEndian: address.sin_port)))
    }

    @Test("a port already in use: rooms serve names the address in its error and exits non-zero")
    func portInUse() async throws {
        let (fd, port) = try Self.listeningSocket()
        defer { close(fd) }
        let data = FileManager.default.temporaryDirectory.appendingPathComponent("rooms-port-\(UUID())")
        defer { try? FileManager.default.removeItem(at: data) }
        let (status, output) = try await RoomsBinary.run(
            RoomsBinary.url.path, ["serve", "--port", "\(port)", "--data-dir", data.path], timeout: .seconds(60))
        #expect(status != 0, "\(output)")
        #expect(output.contains("cannot listen on 127.0.0.1:\(port): address already in use"), "\(output)")
    }

    @Test("rooms bench drives its own server over real sockets and writes the documented JSON report")
    func benchSmoke() async throws {
        let json = FileManager.default.temporaryDirectory.appendingPathComponent("bench-\(UUID()).json")
        defer { try? FileManager.default.removeItem(at: json) }
        let (status, output) = try await RoomsBinary.run(
            RoomsBinary.url.path,
            ["bench", "fanout", "--spawn", "--clients", "20", "--duration", "1", "--warmup", "0.5", "--rate", "200",
             "--json", json.path],
            timeout: .seconds(120))
        #expect(status == 0, "\(output)")
        #expect(output.contains("deliveries/s"))
        let report = try JSONSerialization.jsonObject(with: Data(contentsOf: json)) as? [String: Any] ?? [:]
        for key in [
            "scenario", "config", "messagesPerSecond", "deliveriesPerSecond", "latencyMicros", "serverCpuPercent",
            "serverRssBytes", "errors", "clientCpuPercent", "warmup",
        ] {
            #expect(report[key] != nil, "missing \(key)")
        }
        #expect(report["scenario"] as? String == "fanout")
        #expect(report["errors"] as? Int == 0)
        #expect((report["deliveriesPerSecond"] as? Double ?? 0) > 0)
        let latency = report["latencyMicros"] as? [String: Any] ?? [:]
        #expect(Set(latency.keys).isSuperset(of: ["p50", "p90", "p99", "p999", "max"]))
        #expect((report["serverRssBytes"] as? Int ?? 0) > 0)
    }

    @Test(
        "rooms bench slow: the readers' latency calm and beside a listener that stops reading and a client flooding without reading; the flooder wrote, the stalled listener was left frames"
    )
    func benchSlowSmoke() async throws {
        let json = FileManager.default.temporaryDirectory.appendingPathComponent("bench-slow-\(UUID()).json")
        defer { try? FileManager.default.removeItem(at: json) }
        let (status, output) = try await RoomsBinary.run(
            RoomsBinary.url.path,
            ["bench", "slow", "--spawn", "--clients", "20", "--rate", "50", "--duration", "2", "--warmup", "0.5",
             "--json", json.path],
            timeout: .seconds(120))
        #expect(status == 0, "\(output)")
        #expect(output.contains("p99 / calm p99"), "\(output)")
        let report = try JSONSerialization.jsonObject(with: Data(contentsOf: json)) as? [String: Any] ?? [:]
        #expect(report["scenario"] as? String == "slow")
        let summary = report["misbehaviour"] as? [String: Any] ?? [:]
        #expect(summary["maxQueuedFrames"] as? Int == 256, "\(summary)")
        #expect((summary["floodFramesSent"] as? Int ?? 0) > 0, "\(summary)")
        #expect((summary["stalledFramesReceived"] as? Int ?? 0) > 0, "\(summary)")
        #expect((summary["p99Ratio"] as? Double ?? 0) > 0, "\(summary)")
        #expect(((summary["calmLatencyMicros"] as? [String: Any])?["count"] as? Int ?? 0) > 0, "\(summary)")
        #expect((report["deliveriesPerSecond"] as? Double ?? 0) > 0)
    }

    @Test("rooms bench soak: a mixed workload sampled at each interval: memory, descriptors, open databases, work done")
    func benchSoakSmoke() async throws {
        let json = FileManager.default.temporaryDirectory.appendingPathComponent("bench-soak-\(UUID()).json")
        defer { try? FileManager.default.removeItem(at: json) }
        let (status, output) = try await RoomsBinary.run(
            RoomsBinary.url.path,
            ["bench", "soak", "--spawn", "--rooms", "3", "--clients", "2", "--rate", "20", "--duration", "4",
             "--sample-every", "2", "--json", json.path],
            timeout: .seconds(120))
        #expect(status == 0, "\(output)")
        #expect(output.contains("RSS growth"), "\(output)")
        let report = try JSONSerialization.jsonObject(with: Data(contentsOf: json)) as? [String: Any] ?? [:]
        let samples = (report["soak"] as? [String: Any])?["samples"] as? [[String: Any]] ?? []
        #expect(samples.count == 2, "\(report)")
        for sample in samples {
            #expect((sample["rssBytes"] as? Int ?? 0) > 0, "\(sample)")
            #expect((sample["openDescriptors"] as? Int ?? 0) > 0, "\(sample)")
            #expect((sample["openDatabases"] as? Int ?? 0) > 0, "\(sample)")
            #expect((sample["sqliteMemoryBytes"] as? Int ?? 0) > 0, "\(sample)")
            #expect((sample["acknowledged"] as? Int ?? 0) > 0, "\(sample)")
            #expect((sample["deliveries"] as? Int ?? 0) > 0, "\(sample)")
        }
    }

    @Test("rooms bench --slo-p99 searches the highest rate held within the latency target and reports every rate tried")
    func benchRateSearch() async throws {
        let json = FileManager.default.temporaryDirectory.appendingPathComponent("bench-slo-\(UUID()).json")
        defer { try? FileManager.default.removeItem(at: json) }
        let (status, output) = try await RoomsBinary.run(
            RoomsBinary.url.path,
            ["bench", "fanout", "--spawn", "--clients", "5", "--duration", "0.3", "--warmup", "0.1", "--rate", "100",
             "--slo-p99", "50", "--json", json.path],
            timeout: .seconds(300))
        #expect(status == 0, "\(output)")
        #expect(output.contains("rates tried (p99 target 50.0 ms)"), "\(output)")
        let report = try JSONSerialization.jsonObject(with: Data(contentsOf: json)) as? [String: Any] ?? [:]
        let probes = report["probes"] as? [[String: Any]] ?? []
        #expect(probes.count >= 2, "\(probes)")
        #expect(probes.first?["rate"] as? Double == 100)
        // The report's run is the highest rate that held, and some higher rate did not.
        let held = probes.filter { $0["held"] as? Bool == true }.compactMap { $0["rate"] as? Double }
        let config = report["config"] as? [String: Any] ?? [:]
        #expect(config["rate"] as? Double == held.max(), "\(config) \(probes)")
        #expect(probes.contains { $0["held"] as? Bool == false && ($0["rate"] as? Double ?? 0) > (held.max() ?? 0) })
        for probe in probes where probe["held"] as? Bool == true {
            #expect((probe["p99Micros"] as? Int ?? .max) <= 50_000 && probe["errors"] as? Int == 0)
        }
    }

    @Test("rooms bench --runs repeats a scenario, each run on a fresh server, and reports the median and spread")
    func benchRuns() async throws {
        let json = FileManager.default.temporaryDirectory.appendingPathComponent("bench-runs-\(UUID()).json")
        defer { try? FileManager.default.removeItem(at: json) }
        let (status, output) = try await RoomsBinary.run(
            RoomsBinary.url.path,
            ["bench", "fanout", "--spawn", "--clients", "10", "--duration", "0.5", "--warmup", "0.2", "--rate", "100",
             "--runs", "3", "--json", json.path],
            timeout: .seconds(180))
        #expect(status == 0, "\(output)")
        #expect(output.contains("median of") && output.contains("3 rooms runs"), "\(output)")
        // Three servers were started, one per run.
        #expect(output.components(separatedBy: "started rooms serve on port").count == 4, "\(output)")
        let report = try JSONSerialization.jsonObject(with: Data(contentsOf: json)) as? [String: Any] ?? [:]
        let runs = report["runs"] as? [[String: Any]] ?? []
        #expect(runs.count == 3)
        let summary = (report["summary"] as? [[String: Any]])?.first ?? [:]
        #expect(summary["runs"] as? Int == 3 && summary["target"] as? String == "rooms")
        let deliveries = summary["deliveriesPerSecond"] as? [String: Double] ?? [:]
        let each = runs.compactMap { $0["deliveriesPerSecond"] as? Double }.sorted()
        #expect(deliveries["median"] == each[1] && deliveries["min"] == each[0] && deliveries["max"] == each[2], "\(summary)")
    }

    @Test("a second server on the same data directory exits with status 2, naming the directory and the holder's PID")
    func dataDirectoryIsLocked() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("rooms-lock-\(UUID())")
        defer { try? FileManager.default.removeItem(at: directory) }
        let first = try await ServerProcess.start(kinds: #"{"chat": {"class": "chat"}}"#, dataDirectory: directory)
        let data = directory.appendingPathComponent("data").path
        let (status, output) = try await RoomsBinary.run(
            RoomsBinary.url.path,
            ["serve", "--config", directory.appendingPathComponent("rooms.json").path, "--port", "0"],
            timeout: .seconds(30))
        #expect(status == 2, "\(output)")
        #expect(output.contains(data), "\(output)")
        #expect(output.contains("PID \(first.pid)"), "\(output)")
        // The first server is unharmed.
        let posted = try await first.http(.post, "/rooms/chat/a/messages", body: #"{"user": "ann", "text": "hi"}"#)
        #expect(posted.status == 201)
        #expect(try await first.stop() == 0)
    }
}
