import Foundation
import TestSupport
import Testing

/// The crash torture (`Benchmarks/faults/crash_torture.py`), short form: 5 cycles of kill and restart under load,
/// in open rooms, two members rooms (reads, member changes, inboxes, offline push) and a direct room.
@Suite("Crash torture", .watched)
struct CrashTortureTests {
    @Test(
        "killed with SIGKILL and stopped with SIGTERM under HTTP and WebSocket senders, restarted on the same data: every acknowledged message once with its seq, seqs gap-free, nothing unsent stored, scheduled messages once, no send left unanswered; every acknowledged read and member change holds, inboxes agree with the rooms, every message pushed once to an offline member and never twice to anyone"
    )
    func fiveCycles() async throws {
        let python = try #require(RoomsBinary.which("python3"), "python3 is needed (.ci/run installs it)")
        let script = RoomsBinary.packageRoot.appendingPathComponent("Benchmarks/faults/crash_torture.py").path
        let (status, output) = try await RoomsBinary.run(
            python, [script, "--binary", RoomsBinary.url.path, "--cycles", "5", "--signal", "mixed"],
            timeout: .seconds(300))
        print(String(output.split(separator: "\n").last ?? ""))
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
        // Derived state: reads (acknowledged by a later send's ack on the same socket) are in the
        // receipts, answered member changes in the member lists, every inbox agrees with the rooms'
        // logs and receipts, and pushes cover an offline member's messages exactly once.
        #expect((summary["reads_acknowledged"] as? Int ?? 0) >= 10, "\(summary)")
        #expect((summary["receipts_checked"] as? Int ?? 0) >= 4, "\(summary)")
        #expect((summary["member_changes"] as? Int ?? 0) >= 20, "\(summary)")
        #expect(summary["members_checked"] as? Int == 16, "\(summary)")
        #expect(summary["inboxes_checked"] as? Int == 8, "\(summary)")
        #expect(summary["inbox_mismatches"] as? Int == 0, "\(summary)")
        #expect((summary["pushes"] as? Int ?? 0) >= 10, "\(summary)")
        #expect(summary["push_duplicates"] as? Int == 0, "\(summary)")
        #expect(summary["push_missing"] as? Int == 0, "\(summary)")
        // Read on disk: the rooms' files owe no inbox update once the inboxes agree.
        #expect(summary["inbox_updates_owed"] as? Int == 0, "\(summary)")
    }
}
