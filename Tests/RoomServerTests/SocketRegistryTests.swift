@_spi(Node) import RoomRuntime
import TestSupport
import Testing

@testable import RoomServer

@Suite("The node's registry of open sockets", .watched)
struct SocketRegistryTests {
    /// A socket that never closes by itself.
    final class StuckSocket: OpenConnection, Sendable {
        var isClosing: Bool { false }
        func heartbeat() {}
        func send(_ frame: OutboundFrame) {}
        func close(code: CloseCode, reason: String) {}
    }

    @Test("a shutdown's wait for the sockets ends when the last closes, or at its timeout if one never does")
    func boundedWait() async throws {
        let registry = SocketRegistry()
        #expect(await registry.waitUntilEmpty(within: .seconds(30)), "an empty registry is empty at once")

        let stuck = StuckSocket()
        #expect(registry.add(stuck))
        let start = ContinuousClock.now
        #expect(!(await registry.waitUntilEmpty(within: .milliseconds(200))))
        #expect(ContinuousClock.now - start >= .milliseconds(200))
        #expect(registry.count == 1)

        let closing = Task {
            try await Task.sleep(for: .milliseconds(100))
            registry.remove(stuck)
        }
        #expect(await registry.waitUntilEmpty(within: .seconds(30)), "the wait ends as the last socket closes")
        try await closing.value
        #expect(registry.count == 0)
    }
}
