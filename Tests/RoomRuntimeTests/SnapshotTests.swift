import Foundation
import RoomTesting
import TestSupport
import Testing

@_spi(Node) @testable import RoomRuntime

@Suite("Snapshots", .watched)
struct SnapshotTests {
    private static func fixture(
        idleTimeout: Duration = .seconds(60), snapshotInterval: Duration? = nil
    ) throws -> RuntimeFixture {
        try RuntimeFixture(
            idleTimeout: idleTimeout, kind: "snap", roomClass: RoomClass(SnapshotRoom.self),
            snapshotInterval: snapshotInterval)
    }

    private func state(_ fixture: RuntimeFixture, _ id: String) async throws -> SnapshotRoom.State {
        let body = try await fixture.request(id, "GET", ["state"])
        return try JSONDecoder().decode(SnapshotRoom.State.self, from: Data(body.utf8))
    }

    private func snapshots(_ id: String) -> [(seq: Int64, wrote: Bool)] {
        SnapshotRoom.log.entries(for: id).compactMap { event in
            if case .snapshot(let seq, let wrote) = event { return (seq, wrote) }
            return nil
        }
    }

    private func starts(_ id: String) -> [Activation] {
        SnapshotRoom.log.entries(for: id).compactMap { event in
            if case .start(let activation) = event { return activation }
            return nil
        }
    }

    @Test("an active room takes periodic snapshots, each covering what was committed before it")
    func periodicWhileActive() async throws {
        let fixture = try Self.fixture()
        defer { fixture.directory.remove() }
        let id = uniqueID("periodic")
        let address = try fixture.address(id)
        _ = try await fixture.request(id, "POST", ["add", "5"])
        try await eventually("a snapshot of change 1") { snapshots(id).contains { $0.seq == 1 && $0.wrote } }
        _ = try await fixture.request(id, "POST", ["add", "7"])
        try await eventually("a snapshot of change 2") { snapshots(id).contains { $0.seq == 2 && $0.wrote } }

        let state = try await state(fixture, id)
        #expect(state.value == 12)
        #expect(state.snapshotSeq == 2)
        #expect(state.pendingChanges == 0, "the snapshot dropped the changes it covers")

        // Snapshots go on while the room is in memory, on the interval and no more often.
        let before = snapshots(id).count
        let started = ContinuousClock.now
        try await eventually("two more snapshots") { snapshots(id).count >= before + 2 }
        try await Task.sleep(for: .milliseconds(300))
        let taken = snapshots(id).count - before
        let elapsed = ContinuousClock.now - started
        #expect(taken <= Int(elapsed / .milliseconds(100)) + 2, "\(taken) snapshots in \(elapsed)")
        #expect(try fixture.runtime.info(for: address).active)
        #expect(starts(id) == [.created])
        await fixture.stop()
    }

    @Test("a snapshot is taken before the room hibernates, and the next activation starts from it")
    func snapshotBeforeHibernation() async throws {
        // No periodic snapshot in this test: the kind's interval is long.
        let fixture = try Self.fixture(idleTimeout: .milliseconds(100), snapshotInterval: .seconds(60))
        defer { fixture.directory.remove() }
        let id = uniqueID("before-hibernation")
        let address = try fixture.address(id)
        _ = try await fixture.request(id, "POST", ["add", "3"])
        _ = try await fixture.request(id, "POST", ["add", "4"])
        try await eventually("the room hibernated") { try !fixture.runtime.info(for: address).active }
        // Every hibernation (a slow machine may see one between the two changes) runs a
        // snapshot just before the hibernate hook, and there is no other snapshot.
        let log = SnapshotRoom.log.entries(for: id)
        #expect(log.suffix(2) == [.snapshot(seq: 2, wrote: true), .hibernate])
        #expect(log.filter { $0 == .hibernate }.count == snapshots(id).count)
        for (index, event) in log.enumerated() where event == .hibernate {
            if case .snapshot = log[index - 1] {} else { Issue.record("hibernated without a snapshot: \(log)") }
        }

        let state = try await state(fixture, id)
        #expect(state.loadedValue == 7)
        #expect(state.loadedSeq == 2)
        #expect(state.replayed == 0)
        #expect(state.value == 7)
        #expect(starts(id).last == .rehydrated)
        await fixture.stop()
    }

    @Test("after rehydration the state is the last snapshot plus the changes committed since")
    func snapshotPlusChanges() async throws {
        let fixture = try Self.fixture(idleTimeout: .milliseconds(300))
        defer { fixture.directory.remove() }
        let id = uniqueID("replay")
        let address = try fixture.address(id)
        _ = try await fixture.request(id, "POST", ["add", "5"])
        _ = try await fixture.request(id, "POST", ["add", "7"])
        try await eventually("a snapshot of change 2") { snapshots(id).contains { $0.seq == 2 && $0.wrote } }
        // From now on the room writes no snapshot, as if the process died after the changes.
        _ = try await fixture.request(id, "POST", ["skip-snapshots"])
        _ = try await fixture.request(id, "POST", ["add", "1"])
        _ = try await fixture.request(id, "POST", ["add", "2"])
        try await eventually("the room hibernated") { try !fixture.runtime.info(for: address).active }
        #expect(!snapshots(id).contains { $0.seq > 2 && $0.wrote })

        let state = try await state(fixture, id)
        #expect(state.loadedValue == 12)
        #expect(state.loadedSeq == 2)
        #expect(state.replayed == 2)
        #expect(state.value == 15)
        #expect(state.seq == 4)
        await fixture.stop()
    }

    @Test("periodic snapshots do not keep an idle room in memory, nor wake it once hibernated")
    func snapshotsDoNotKeepARoomAwake() async throws {
        let fixture = try Self.fixture(idleTimeout: .milliseconds(200), snapshotInterval: .milliseconds(50))
        defer { fixture.directory.remove() }
        let id = uniqueID("idle")
        let address = try fixture.address(id)
        _ = try await fixture.request(id, "POST", ["add", "1"])
        // Keep the room in use until periodic snapshots have run, then leave it alone.
        let deadline = ContinuousClock.now + .seconds(10)
        while snapshots(id).count < 2 {
            guard ContinuousClock.now < deadline else { throw TimedOut(description: "no periodic snapshot") }
            _ = try await state(fixture, id)
            try await Task.sleep(for: .milliseconds(20))
        }
        try await eventually("the room hibernated despite its snapshots") {
            try !fixture.runtime.info(for: address).active
        }
        let activations = starts(id).count
        let taken = snapshots(id).count
        #expect(fixture.runtime.alarms.due(for: address) == nil, "a hibernated room keeps no snapshot alarm")

        // Ten intervals, hibernated.
        for _ in 0..<20 {
            try await Task.sleep(for: .milliseconds(25))
            #expect(try !fixture.runtime.info(for: address).active)
        }
        #expect(starts(id).count == activations)
        #expect(snapshots(id).count == taken)
        #expect(try await state(fixture, id).value == 1)
        await fixture.stop()
    }

    @Test("a room whose snapshot fails still hibernates, and stays hibernated")
    func failingSnapshotDoesNotWakeTheRoom() async throws {
        let fixture = try Self.fixture(idleTimeout: .milliseconds(150), snapshotInterval: .milliseconds(50))
        defer { fixture.directory.remove() }
        let id = uniqueID("failing")
        let address = try fixture.address(id)
        _ = try await fixture.request(id, "POST", ["add", "1"])
        _ = try await fixture.request(id, "POST", ["fail-snapshots"])
        try await eventually("the room hibernated") { try !fixture.runtime.info(for: address).active }
        let activations = starts(id).count
        try await Task.sleep(for: .milliseconds(500))
        #expect(starts(id).count == activations, "the hibernated room was woken \(starts(id).count - activations) times")
        #expect(fixture.runtime.alarms.due(for: address) == nil)
        #expect(try await state(fixture, id).value == 1, "the change survives without a snapshot")
        await fixture.stop()
    }
}
