import Foundation
import TestSupport
import Testing

@_spi(Node) @testable import RoomRuntime

@Suite("Router", .watched)
struct RouterTests {
    @Test("FNV-1a matches the published test vectors")
    func fnvVectors() {
        // From the FNV reference test suite (http://www.isthe.com/chongo/src/fnv/test_fnv.c).
        #expect(StableHash.fnv1a64("") == 0xcbf2_9ce4_8422_2325)
        #expect(StableHash.fnv1a64("a") == 0xaf63_dc4c_8601_ec8c)
        #expect(StableHash.fnv1a64("foobar") == 0x8594_4171_f739_67e8)
    }

    @Test("placement is fixed: the same in every process, as an independent implementation computes it")
    func placementIsStable() throws {
        // Computed by a separate Python implementation of FNV-1a + jump consistent hash. A change
        // here moves every room to another shard: it must be deliberate.
        let expected: [(kind: String, id: String, hash: UInt64, shards: [Int])] = [
            ("chat", "lobby", 1_073_378_950_584_463_596, [0, 0, 3, 3, 11]),
            ("ai", "room-42", 12_846_660_725_728_259_720, [0, 0, 0, 4, 4]),
            ("game", "☃ snow/man", 7_164_148_507_371_119_149, [0, 1, 3, 3, 14]),
        ]
        for room in expected {
            let address = try RoomAddress(kind: room.kind, id: room.id)
            #expect(StableHash.fnv1a64(address.path) == room.hash)
            let placed = [1, 2, 4, 8, 16].map { Router.shardIndex(for: address, shardCount: $0) }
            #expect(placed == room.shards, "\(address)")
        }
    }

    @Test("rooms spread evenly over the shards", arguments: [2, 3, 4, 8])
    func evenSpread(shards: Int) throws {
        var counts = [Int](repeating: 0, count: shards)
        let rooms = 20_000
        for index in 0..<rooms {
            counts[Router.shardIndex(for: try RoomAddress(kind: "chat", id: "room-\(index)"), shardCount: shards)] += 1
        }
        let mean = Double(rooms) / Double(shards)
        for count in counts {
            #expect(abs(Double(count) - mean) / mean < 0.05, "counts \(counts)")
        }
    }

    @Test("growing the shard count moves only the share of rooms the new shard takes")
    func growthMovesFewRooms() throws {
        var moved = 0
        let rooms = 10_000
        for index in 0..<rooms {
            let address = try RoomAddress(kind: "chat", id: "room-\(index)")
            if Router.shardIndex(for: address, shardCount: 4) != Router.shardIndex(for: address, shardCount: 5) {
                moved += 1
            }
        }
        // Ideal: 1/5 of the rooms. Modulo hashing would move about 4/5.
        #expect(Double(moved) / Double(rooms) < 0.25)
    }
}

@Suite("Room addresses", .watched)
struct RoomAddressTests {
    @Test("valid addresses")
    func valid() throws {
        _ = try RoomAddress(kind: "chat", id: "x")
        _ = try RoomAddress(kind: "a-b_c9", id: String(repeating: "é", count: 128))  // 256 bytes
        _ = try RoomAddress(kind: "chat", id: "../../etc/passwd")
        _ = try RoomAddress(kind: "chat", id: "with space/and slash")
    }

    @Test(
        "invalid ids are refused",
        arguments: ["", String(repeating: "x", count: 257), "tab\there", "nul\u{0}", "del\u{7F}", "c1\u{85}"])
    func invalidID(id: String) {
        let error = #expect(throws: RoomError.self) { try RoomAddress(kind: "chat", id: id) }
        #expect(error?.code == .invalidRoomID)
    }

    @Test("invalid kinds are refused", arguments: ["", "Chat", "chat/x", "ch at", String(repeating: "k", count: 65)])
    func invalidKind(kind: String) {
        let error = #expect(throws: RoomError.self) { try RoomAddress(kind: kind, id: "x") }
        #expect(error?.code == .invalidKind)
    }
}
