import Foundation
import TestSupport
import Testing

/// Every transport of issue 13 driven by real clients from another process: sseclient-py,
/// urllib long polls, stomp.py over WebSocket, and the plain Python WebSocket client, all on one
/// chat at the end (examples/python/transports_check.py says what it checks).
@Suite("Transports from outside clients", .watched)
struct TransportInteropTests {
    static var hasClients: Bool { RoomsBinary.pythonCanImport("sseclient") && RoomsBinary.pythonCanImport("stomp") }

    @Test(
        "sseclient-py resumes with Last-Event-ID, long polls follow the room, stomp.py hears two rooms on one socket and resumes with x-after, and one chat seen through all four transports has the same messages in the same order",
        .enabled(if: hasClients, "needs python3 with sseclient-py and stomp.py (.ci/run installs them)"))
    func pythonClients() async throws {
        let script = RoomsBinary.packageRoot.appendingPathComponent("examples/python/transports_check.py").path
        let (status, output) = try await RoomsBinary.run(
            RoomsBinary.which("python3")!, [script, RoomsBinary.url.path], timeout: .seconds(180))
        #expect(status == 0, "\(output)")
        #expect(output.hasSuffix("PASS\n"), "\(output)")
    }
}
