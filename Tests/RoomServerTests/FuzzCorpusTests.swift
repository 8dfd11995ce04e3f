import Foundation
import RoomFuzzing
import TestSupport
import Testing

/// The fuzz targets' committed inputs (Fuzz/Corpus: seeds and what the fuzzer found that added
/// coverage; Fuzz/Crashes: every input that ever crashed a parser or broke an invariant), replayed
/// through the same entries libFuzzer runs, uninstrumented: a parser that traps again on any of
/// them crashes this test, an invariant it breaks again fails it.
@Suite("Fuzz corpus replay", .watched)
struct FuzzCorpusTests {
    static let fuzz = RoomsBinary.packageRoot.appendingPathComponent("Fuzz")

    /// The files of `folder` (none when it does not exist), by name.
    static func inputs(_ folder: URL) -> [URL] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
        return names.sorted().map { folder.appendingPathComponent($0) }
    }

    @Test("Every target has seeds: a corpus of its own, with real examples of its input")
    func everyTargetHasSeeds() {
        for target in FuzzTarget.allCases {
            let seeds = Self.inputs(Self.fuzz.appendingPathComponent("Corpus/\(target.rawValue)"))
                .filter { $0.lastPathComponent.hasPrefix("seed-") }
            #expect(seeds.count >= 3, "Fuzz/Corpus/\(target.rawValue) has \(seeds.count) seeds")
        }
    }

    @Test("Every committed corpus and crash input goes through its target without a trap or a broken invariant",
        arguments: FuzzTarget.allCases)
    func replay(_ target: FuzzTarget) async throws {
        let files =
            Self.inputs(Self.fuzz.appendingPathComponent("Corpus/\(target.rawValue)"))
            + Self.inputs(Self.fuzz.appendingPathComponent("Crashes/\(target.rawValue)"))
        #expect(!files.isEmpty)
        let inputs = try files.map { ($0.path, try [UInt8](Data(contentsOf: $0))) }
        // On a thread of its own: a target is synchronous and the token target waits for the
        // (async) verifier, which must not hold one of the few threads Swift concurrency runs on.
        let failures = await withCheckedContinuation { (done: CheckedContinuation<[String], Never>) in
            Thread {
                var failures: [String] = []
                for (path, bytes) in inputs {
                    do throws(FuzzFailure) {
                        try target.run(bytes)
                    } catch {
                        failures.append("\(path): \(error)")
                    }
                }
                done.resume(returning: failures)
            }.start()
        }
        #expect(failures.isEmpty, "\(failures.joined(separator: "\n"))")
    }
}
