import Foundation
import TestSupport
import Testing

/// The wire fuzzer (`Benchmarks/faults/wire_fuzz.py`), short form: 15 seconds of mutated HTTP
/// requests and WebSocket frames against `rooms serve` with `rooms.example.json`'s kinds.
@Suite("Wire fuzz", .watched)
struct WireFuzzTests {
    @Test(
        "15 s of mutated HTTP requests and WebSocket frames: the node stays up and answers /healthz, every error and close code is one docs/PROTOCOL.md lists, memory stops growing, SIGTERM ends it cleanly"
    )
    func fifteenSeconds() async throws {
        let python = try #require(RoomsBinary.which("python3"), "python3 is needed (.ci/run installs it)")
        let script = RoomsBinary.packageRoot.appendingPathComponent("Benchmarks/faults/wire_fuzz.py").path
        let (status, output) = try await RoomsBinary.run(
            python, [script, "--binary", RoomsBinary.url.path, "--seconds", "15", "--workers", "3", "--leak-slack", "24"],
            timeout: .seconds(240))
        print(output.split(separator: "\n").last ?? "")
        #expect(status == 0, "\(output)")
        let summary = try #require(
            output.split(separator: "\n").last.flatMap {
                try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
            }, "no summary: \(output)")
        #expect(summary["problems"] as? Int == 0, "\(output)")
        // The run reached the server's parsers: many requests answered, sessions opened, errors sent.
        #expect((summary["http_requests"] as? Int ?? 0) >= 300, "\(summary)")
        #expect((summary["ws_sessions"] as? Int ?? 0) >= 50, "\(summary)")
        let answers = summary["answers"] as? [String: Int] ?? [:]
        #expect(answers.keys.contains { $0.hasPrefix("ws error ") }, "no error frame seen: \(summary)")
        #expect(answers.keys.contains { $0.hasPrefix("ws close 10") }, "no close frame seen: \(summary)")
    }
}
