import Foundation
import RoomTesting
import HTTPTypes
import HummingbirdTesting
import NIOCore
import TestSupport
import Testing

@Suite("What creates a room", .watched)
struct RoomCreationTests {
    @Test("1,000 requests that store nothing, to distinct ids, leave no room file and nothing listed")
    func failedRequestsCreateNothing() async throws {
        let server = try await TestServer.start()
        defer { Task { try? await server.stopAndRemove() } }
        let requests: [(HTTPRequest.Method, String, String?)] = [
            (.get, "anything", nil),  // 404 from the room's own hook
            (.get, "messages", nil),  // a read of an empty room
            (.post, "messages", "not json"),  // 400
            (.post, "messages", #"{"user": "ann"}"#),  // 400 missing_field
            (.get, "scheduled", nil),
        ]
        // Eight clients, each on one keep-alive connection.
        try await withThrowingTaskGroup(of: Int.self) { group in
            for worker in 0..<8 {
                group.addTask {
                    try await TestClient.withClient(host: "127.0.0.1", port: server.port) { client in
                        var done = 0
                        for index in stride(from: worker, to: 1_000, by: 8) {
                            let (method, path, body) = requests[index % requests.count]
                            let response = try await client.execute(
                                TestClient.Request(
                                    "/rooms/chat/probe-\(index)/\(path)", method: method,
                                    body: body.map { ByteBuffer(string: $0) }))
                            #expect(response.status.code < 500, "\(response.status)")
                            done += 1
                        }
                        return done
                    }
                }
            }
            let done = try await group.reduce(0, +)
            #expect(done == 1_000)
        }
        // A WebSocket upgrade refused before the room (a bad user name) creates nothing either.
        let refused = try await server.http(.get, "/rooms/chat/refused/ws?user=%00")
        #expect(refused.status == 400)

        #expect(server.dataFiles().filter { $0.hasPrefix("rooms/") } == [])
        let listed = try await server.http(.get, "/rooms").json["rooms"] as? [Any]
        #expect(listed?.isEmpty == true, "\(listed ?? [])")
        let info = try await server.http(.get, "/rooms/chat/probe-1").json
        #expect(info["exists"] as? Bool == false)

        // A stored write does create the room.
        let posted = try await server.http(.post, "/rooms/chat/real/messages", body: #"{"user": "ann", "text": "hi"}"#)
        #expect(posted.status == 201)
        try await eventually("the room's file exists") {
            server.dataFiles().contains { $0.hasPrefix("rooms/chat/") && $0.hasSuffix(".sqlite") }
        }
        let listedAfter = try await server.http(.get, "/rooms").json["rooms"] as? [[String: Any]]
        #expect(listedAfter?.map { $0["id"] as? String } == ["real"])
    }
}
