import Foundation

/// What a live room may ask of the node (see ``RoomHost``).
extension RoomRuntime: RoomHost {
    var groupCommitLimit: Int { configuration.groupCommitLimit }

    var services: RoomServices { configuration.services }

    var isContended: Bool { activeRooms.isContended }

    func touch(_ slot: RoomSlot) {
        activeRooms.touch(slot)
    }

    func beginCall(_ slot: RoomSlot) {
        activeRooms.beginCall(slot)
    }

    func endCall(_ slot: RoomSlot) {
        activeRooms.endCall(slot)
    }

    func gaveUpPlace(_ slot: RoomSlot) {
        activeRooms.giveUpPlace(slot)
    }

    func reacquirePlace(_ slot: RoomSlot) async {
        await activeRooms.reacquire(slot)
        closeWarmDatabasesOverBudget()
    }

    func sequenceAdvanced(_ address: RoomAddress, to sequence: Int64) {
        sequenceWatchers.advanced(address, to: sequence)
    }

    func register(_ address: RoomAddress, nextAlarm: Int64?) throws {
        try directory.register(
            address, file: StorageLayout.relativePath(of: address), at: WallClock.millisecondsSince1970(),
            nextAlarm: nextAlarm)
    }

    func unregister(_ address: RoomAddress) {
        try? directory.remove(address)
    }
}
