import Foundation
import Testing

/// The crash torture (`Benchmarks/faults/crash_torture.py`), short form: 5 cycles of kill and restart under load.
@Suite("Crash torture")
struct CrashTortureTests {
    @Test(
        "killed with SIGKILL and stopped with SIGTERM under HTTP and WebSocket senders, restarted on the same data: every acknowledged message once with its seq, seqs gap-free, nothing unsent stored, scheduled messages once, no send left unanswered"
    )
    func fiveCycles() async throws {
        let python = try #require(RoomsBinary.which("python3"), "python3 is needed (.ci/run installs it)")
        let script = RoomsBinary.packageRoot.appendingPathComponent("Benchmarks/faults/crash_torture.py").path
        let (status, output) = try await RoomsBinary.run(
            python, [script, "--binary", RoomsBinary.url.path, "--cycles", "5", "--signal", "mixed"],
            timeout: .seconds(300))
        print(output.split(separator: "\n").last ?? "")
        #expect(status == 0, "\(output)")
        let summary = try #require(
            output.split(separator: "\n").last.flatMap {
                try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
            }, "no summary: \(output)")
        #expect(summary["lost"] as? Int == 0)
        #expect(summary["duplicated"] as? Int == 0)
        #expect(summary["silences"] as? Int == 0)
        #expect((summary["sigkill"] as? Int ?? 0) >= 3 && (summary["sigterm"] as? Int ?? 0) >= 1, "\(summary)")
        // The run did something worth checking: hundreds of messages acknowledged.
        #expect((summary["acknowledged"] as? Int ?? 0) >= 200, "\(summary)")
        #expect(!output.contains("HTTP senders only"), "websocket-client is missing: no WebSocket senders ran")
    }
}
