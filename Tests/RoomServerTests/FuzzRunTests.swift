import Foundation
import RoomFuzzing
import TestSupport
import Testing

/// The fuzz targets under libFuzzer, briefly (what CI runs of them): `Fuzz/run --seconds 5`
/// builds Fuzz/ with `-sanitize=fuzzer,address` (in Fuzz/.build, apart from the tests' build, at
/// the lowest CPU priority so that the other tests keep theirs) and runs every target for 5
/// seconds from its committed corpus. A crash lands in Fuzz/Crashes/<target>/, to commit with its
/// fix. Not behind `RoomsBinary.run`'s one-program-at-a-time gate: the build from nothing takes
/// minutes, and at the lowest priority it only takes what the other tests leave.
@Suite("Fuzz run", .watched(minutes: 45))
struct FuzzRunTests {
    @Test("5 s of every fuzz target under libFuzzer: each runs inputs, none crashes or breaks an invariant")
    func fiveSecondsEach() async throws {
        let python = try #require(RoomsBinary.which("python3"), "python3 is needed (.ci/run installs it)")
        let script = RoomsBinary.packageRoot.appendingPathComponent("Fuzz/run").path
        let summary = FileManager.default.temporaryDirectory.appendingPathComponent("fuzz-\(UUID().uuidString).json")
        defer { try? FileManager.default.removeItem(at: summary) }
        // The instrumented build from nothing is most of the time.
        let (status, text) = try await RoomsBinary.run(
            python, [script, "--nice", "--seconds", "5", "--summary", summary.path], timeout: .seconds(2_400),
            oneAtATime: false)
        print(text)
        #expect(status == 0, "\(text)")
        let results = try #require(
            try? JSONSerialization.jsonObject(with: Data(contentsOf: summary)) as? [[String: Any]], "no summary: \(text)")
        #expect(Set(results.compactMap { $0["target"] as? String }) == Set(FuzzTarget.allCases.map(\.rawValue)))
        for result in results {
            #expect((result["executions"] as? Int ?? 0) > 0, "\(result)")
            #expect((result["crashes"] as? [String] ?? ["?"]).isEmpty, "\(result)")
        }
    }
}
