import HTTPTypes
@_spi(Node) import RoomRuntime
import RoomServer
import WSCore
import Foundation
import TestSupport
import Testing

@Suite("HTTP API", .watched)
struct HTTPAPITests {
    @Test("health, room info, posting and paging through history")
    func api() async throws {
        let server = try await TestServer.start()
        let health = try await server.http(.get, "/healthz")
        #expect(health.status == 200)
        #expect(health.json["status"] as? String == "ok")

        let before = try await server.http(.get, "/rooms/chat/topic-1")
        #expect(before.status == 200)
        #expect(before.json["exists"] as? Bool == false)
        #expect(before.json["active"] as? Bool == false)
        #expect(before.json["lastSeq"] as? Int == 0)
        #expect(!server.dataFiles().contains { $0.hasPrefix("rooms/") }, "asking creates nothing")

        let listener = try await server.socket("/rooms/chat/topic-1/ws?user=listener")
        for index in 1...12 {
            let posted = try await server.http(
                .post, "/rooms/chat/topic-1/messages", body: #"{"user":"ann","text":"post \#(index)","id":"p\#(index)"}"#)
            #expect(posted.status == 201)
            #expect(posted.json["seq"] as? Int == index)
            #expect(posted.json["id"] as? String == "p\(index)")
        }
        let broadcast = try await listener.waitFor(12, "message")
        #expect(broadcast.map { $0["text"] as? String } == (1...12).map { "post \($0)" })

        let retry = try await server.http(
            .post, "/rooms/chat/topic-1/messages", body: #"{"user":"ann","text":"post 3","id":"p3"}"#)
        #expect(retry.status == 200)
        #expect(retry.json["seq"] as? Int == 3)
        #expect(retry.json["duplicate"] as? Bool == true)

        func seqs(_ query: String) async throws -> [Int] {
            let page = try await server.http(.get, "/rooms/chat/topic-1/messages\(query)")
            #expect(page.status == 200)
            return (page.json["messages"] as? [[String: Any]] ?? []).compactMap { $0["seq"] as? Int }
        }
        #expect(try await seqs("") == Array(1...12))
        #expect(try await seqs("?limit=5") == Array(1...5))
        #expect(try await seqs("?after=10") == [11, 12])
        #expect(try await seqs("?after=3&limit=2") == [4, 5])
        #expect(try await seqs("?before=6&limit=3") == [3, 4, 5])
        #expect(try await seqs("?before=2") == [1])
        #expect(try await seqs("?after=4&before=7") == [5, 6])
        #expect(try await seqs("?after=12") == [])

        let message = (try await server.http(.get, "/rooms/chat/topic-1/messages?limit=1").json["messages"]
            as? [[String: Any]])?.first
        #expect(message?["user"] as? String == "ann")
        #expect(message?["id"] as? String == "p1")
        #expect(message?["text"] as? String == "post 1")
        #expect(message?["ts"] is Int)

        let after = try await server.http(.get, "/rooms/chat/topic-1")
        #expect(after.json["exists"] as? Bool == true)
        #expect(after.json["lastSeq"] as? Int == 12)
        #expect(after.json["connections"] as? Int == 1)
        try await listener.close()
        try await server.stopAndRemove()
    }
}
