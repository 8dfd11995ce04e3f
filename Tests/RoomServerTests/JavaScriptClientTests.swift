import Foundation
import TestSupport
import Testing

/// The JavaScript client (clients/js/rooms.js) under Node's test runner against a real
/// `rooms serve`: clients/js/test/client.test.mjs says what it checks.
@Suite("The JavaScript client", .watched)
struct JavaScriptClientTests {
    /// Node, and a WebSocket for it: its own (22 and later) or the `ws` package.
    static var hasNode: Bool {
        guard let node = RoomsBinary.which("node") else { return false }
        let probe = Process()
        probe.executableURL = URL(fileURLWithPath: node)
        probe.arguments = [
            "-e",
            "if (!globalThis.WebSocket) { try { require('ws') } catch { require('/usr/share/nodejs/ws') } }",
        ]
        probe.standardOutput = FileHandle.nullDevice
        probe.standardError = FileHandle.nullDevice
        guard (try? probe.runToExitBlocking()) != nil else { return false }
        return probe.terminationStatus == 0
    }

    @Test(
        "node --test: a send storm through a link cut at random, a kill -9 and restart, token expiry and refresh, terminal closes, the bounded outbox: every message seen once, in order",
        .enabled(if: hasNode, "needs node with a WebSocket (.ci/run installs nodejs and node-ws)"))
    func nodeTests() async throws {
        let (status, output) = try await RoomsBinary.run(
            RoomsBinary.which("node")!, ["--test", "clients/js/test/"], environment: ["ROOMS_BINARY": RoomsBinary.url.path],
            timeout: .seconds(300))
        #expect(status == 0, "\(output)")
        #expect(output.contains("# fail 0"), "\(output)")
    }
}
