import Foundation
import HTTPTypes
import NIOWebSocket
import TestSupport
import Testing
import WSCore

@Suite("Graceful shutdown", .watched)
struct ShutdownTests {
    @Test("frames queued when shutdown begins are stored and acknowledged before the 1001 close")
    func queuedFramesAreAcknowledged() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("rooms-shutdown-\(UUID())")
        defer { try? FileManager.default.removeItem(at: directory) }
        var server = try await TestServer.start(dataDirectory: directory)
        let ann = try await server.socket("/rooms/chat/closing/ws?user=ann")
        try await ann.waitFor(1, "welcome")
        let sent = 300
        for index in 0..<sent { ann.send(json: ["type": "send", "id": "m\(index)", "text": "message \(index)"]) }
        // Stop while frames are still queued for the room.
        try await ann.waitFor(1, "ack")
        try await server.stop()
        let close = try await ann.closed()
        #expect(close?.closeCode == .goingAway)
        let acked = Set(ann.frames(ofType: "ack").compactMap { $0["id"] as? String })
        let refused = ann.frames(ofType: "error")
        #expect(refused.allSatisfy { $0["code"] as? String == "shutting_down" }, "\(refused)")
        #expect(acked.isDisjoint(with: refused.compactMap { $0["id"] as? String }))

        server = try await TestServer.start(dataDirectory: directory)
        var stored: [String] = []
        var after = 0
        while true {
            let page = try await server.http(.get, "/rooms/chat/closing/messages?after=\(after)&limit=500")
            let messages = page.json["messages"] as? [[String: Any]] ?? []
            guard !messages.isEmpty else { break }
            stored += messages.compactMap { $0["id"] as? String }
            after = messages.last?["seq"] as? Int ?? after
        }
        #expect(!stored.isEmpty)
        let unacknowledged = Set(stored).subtracting(acked)
        #expect(unacknowledged.isEmpty, "\(unacknowledged.count) messages were stored but never acknowledged")
        try await server.stopAndRemove()
    }
}
