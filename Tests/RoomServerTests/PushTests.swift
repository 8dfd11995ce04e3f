import Crypto
import Foundation
import HTTPTypes
@_spi(Node) import RoomRuntime
import RoomServer
import RoomTesting
import TestSupport
import Testing

/// Offline push against a real HTTP receiver in the test process.
@Suite("Offline push", .watched)
struct PushTests {
    static let secret = "push-secret-for-tests-0123456789abcdef"
    static let variable = "ROOMS_TEST_PUSH_SECRET"

    static func start(receiver: PushReceiver, delay: Duration = .seconds(1)) async throws -> TestServer {
        try await TestServer.start(environment: [variable: secret]) { configuration in
            let chat = configuration.runtime.kinds["chat"]!.roomClass
            configuration.runtime.kinds["team"] = try! RoomKind(name: "team", roomClass: chat, access: .members)
            var push = PushConfiguration(url: URL(string: receiver.url)!, secretEnv: variable)
            push.delay = delay
            configuration.push = push
        }
    }

    /// Whether `push` is signed with the secret, as a receiver checks it.
    static func verifies(_ push: PushReceiver.Push) -> Bool {
        let mac = HMAC<SHA256>.authenticationCode(for: push.body, using: SymmetricKey(data: Data(secret.utf8)))
        return push.signature == "sha256=" + mac.map { String(format: "%02x", $0) }.joined()
    }

    /// Creates `team/{room}` owned by ann with `members`.
    static func createRoom(_ server: TestServer, _ room: String, members: [String]) async throws {
        let list = members.map { #"{"user": "\#($0)", "role": "member"}"# }.joined(separator: ", ")
        let created = try await server.http(.post, "/rooms/team/\(room)?user=ann", body: #"{"members": [\#(list)]}"#)
        #expect(created.status == 201, "\(created.body)")
    }

    @Test("an online member gets nothing, an offline one one signed push for what they did not read, a reader within the delay nothing")
    func offlineMembers() async throws {
        let receiver = try await PushReceiver.start()
        // Dan must read within the delay: 3 s was once too little on a loaded CI run (the two
        // posts alone took a second), 6 s leaves room for it.
        let server = try await Self.start(receiver: receiver, delay: .seconds(6))
        defer { Task { try? await server.stopAndRemove(); try? await receiver.stop() } }
        try await Self.createRoom(server, "p", members: ["bob", "cat", "dan"])
        let bob = try await server.socket("/rooms/team/p/ws?user=bob")
        try await bob.waitFor(1, "welcome")

        for text in ["first", "second"] {
            let posted = try await server.http(.post, "/rooms/team/p/messages?user=ann", body: #"{"text": "\#(text)"}"#)
            #expect(posted.status == 201)
        }
        // Dan comes by within the delay, reads both, and leaves.
        let dan = try await server.socket("/rooms/team/p/ws?user=dan")
        try await dan.waitFor(1, "welcome")
        dan.send(#"{"type": "read", "seq": 2}"#)
        try await dan.waitFor(1, "receipt")
        _ = try await dan.close()

        try await eventually("cat's push", timeout: .seconds(30)) { receiver.pushes.count >= 1 }
        try await Task.sleep(for: .milliseconds(1_500))
        let pushes = receiver.pushes
        #expect(pushes.count == 1, "bob is online and dan read it: \(pushes.map(\.json))")
        let push = try #require(pushes.first)
        #expect(Self.verifies(push), "the signature verifies")
        #expect(push.contentType == "application/json")
        #expect((push.delivery ?? "").count >= 16)
        let body = push.json
        #expect(body["user"] as? String == "cat" && body["kind"] as? String == "team" && body["room"] as? String == "p")
        #expect(body["seq"] as? Int == 2 && body["from"] as? String == "ann" && body["text"] as? String == "second")
        #expect(body["ts"] as? Int ?? 0 > 0 && body["count"] as? Int == 2, "\(body)")
        #expect((body["messages"] as? [[String: Any]])?.map { $0["text"] as? String } == ["first", "second"])

        // What was pushed (or read) is not pushed again: the next message is a push of its own,
        // to cat and to dan, who read up to the second.
        #expect(try await server.http(.post, "/rooms/team/p/messages?user=ann", body: #"{"text": "third"}"#).status == 201)
        try await eventually("the pushes of the third", timeout: .seconds(30)) { receiver.pushes.count >= 3 }
        try await Task.sleep(for: .milliseconds(1_500))
        let later = receiver.pushes.dropFirst().map(\.json)
        #expect(later.count == 2, "\(later)")
        #expect(Set(later.map { $0["user"] as? String ?? "" }) == ["cat", "dan"])
        #expect(later.allSatisfy { $0["count"] as? Int == 1 && $0["text"] as? String == "third" && $0["seq"] as? Int == 3 })
        #expect(Set(receiver.pushes.map(\.delivery)).count == 3, "every push has its own delivery id")
        _ = try await bob.close()
    }

    @Test("a receiver that fails twice then succeeds gets the push delivered, with the same delivery id each time")
    func retries() async throws {
        let receiver = try await PushReceiver.start(failures: 2)
        let server = try await Self.start(receiver: receiver, delay: .milliseconds(200))
        defer { Task { try? await server.stopAndRemove(); try? await receiver.stop() } }
        try await Self.createRoom(server, "r", members: ["bob"])
        #expect(try await server.http(.post, "/rooms/team/r/messages?user=ann", body: #"{"text": "hi"}"#).status == 201)
        try await eventually("three attempts", timeout: .seconds(30)) { receiver.pushes.count >= 3 }
        try await Task.sleep(for: .milliseconds(3_000))
        let pushes = receiver.pushes
        #expect(pushes.map(\.status) == [503, 503, 204], "\(pushes.map(\.status))")
        #expect(Set(pushes.map(\.delivery)).count == 1 && pushes[0].delivery != nil)
        #expect(Set(pushes.map(\.body)).count == 1, "the body is fixed once")
        #expect(pushes.allSatisfy(Self.verifies))
    }

    @Test("a kill -9 between a message's commit and its push still delivers the push after the restart")
    func pushAcrossKill() async throws {
        let receiver = try await PushReceiver.start()
        defer { Task { try? await receiver.stop() } }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("rooms-push-\(UUID())")
        defer { try? FileManager.default.removeItem(at: directory) }
        let kinds = #"{"team": {"class": "chat", "access": "members"}}"#
        // Due 5 s after the commit: room enough to kill the node before, even on a loaded machine.
        let push = #""push": {"url": "\#(receiver.url)", "secretEnv": "\#(Self.variable)", "delaySeconds": 5}"#
        var server = try await ServerProcess.start(
            kinds: kinds, dataDirectory: directory, sections: push, environment: [Self.variable: Self.secret])
        let created = try await server.http(
            .post, "/rooms/team/k?user=ann", body: #"{"members": [{"user": "bob", "role": "member"}]}"#)
        #expect(created.status == 201)
        #expect(try await server.http(.post, "/rooms/team/k/messages?user=ann", body: #"{"text": "are you there"}"#).status == 201)
        #expect(try await server.stop(signal: SIGKILL) == SIGKILL)
        #expect(receiver.pushes.isEmpty, "the push was due 5 s after the commit")

        server = try await ServerProcess.start(
            kinds: kinds, dataDirectory: directory, sections: push, environment: [Self.variable: Self.secret])
        try await eventually("the push after the restart", timeout: .seconds(30)) { receiver.pushes.count >= 1 }
        let delivered = receiver.pushes[0]
        #expect(delivered.json["user"] as? String == "bob" && delivered.json["text"] as? String == "are you there")
        #expect(Self.verifies(delivered))
        #expect(try await server.stop() == 0)
        #expect(receiver.pushes.count == 1)
    }

    @Test("rooms serve exits with status 2 naming push.secretEnv when the secret is not in its environment")
    func missingSecretExits() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("rooms-push-env-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let config = directory.appendingPathComponent("rooms.json")
        try Data(
            """
            {"server": {"port": 0}, "storage": {"directory": "\(directory.appendingPathComponent("data").path)"},
             "kinds": {"chat": {"class": "chat"}},
             "push": {"url": "https://push.example/x", "secretEnv": "ROOMS_TEST_PUSH_SECRET_UNSET"}}
            """.utf8
        ).write(to: config)
        let (status, output) = try await RoomsBinary.run(
            RoomsBinary.url.path, ["serve", "--config", config.path], timeout: .seconds(60))
        #expect(status == 2, "\(output)")
        #expect(output.contains("push.secretEnv") && output.contains("ROOMS_TEST_PUSH_SECRET_UNSET"), "\(output)")
    }
}
