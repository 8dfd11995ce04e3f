import Foundation
import Testing

@Suite("The rooms executable")
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
        ])
    func refusedCommandLines(arguments: [String], message: String) async throws {
        let (status, output) = try await RoomsBinary.run(RoomsBinary.url.path, arguments, timeout: .seconds(30))
        #expect(status != 0)
        #expect(output.contains(message), "\(output)")
    }
}
