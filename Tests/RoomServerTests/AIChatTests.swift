import AIRooms
import Foundation
import RoomTesting
import HTTPTypes
@_spi(Node) import RoomRuntime
import RoomServer
import Synchronization
import TestSupport
import Testing

/// AI rooms against a real HTTP server speaking the OpenAI streaming format (``FakeOpenAIServer``).
@Suite("AI chat rooms", .watched)
struct AIChatTests {
    /// A DurableRooms server whose `ai` kind uses `provider`, and the fake provider.
    static func servers(
        maxQueuedPrompts: Int = 1, idleTimeout: Duration = .seconds(30), extra: [String: JSONValue] = [:]
    ) async throws -> (TestServer, FakeOpenAIServer) {
        let provider = try await FakeOpenAIServer.start()
        var options: [String: JSONValue] = [
            "provider": .object([
                "type": .string("openai"), "baseURL": .string(provider.baseURL), "model": .string("fake-model"),
                // Long enough that a loaded machine does not time a healthy stream out; the
                // `#hang` case waits longer still.
                "timeoutSeconds": .number(4), "maxTokens": .number(64),
            ]),
            "systemPrompt": .string("Be brief."), "maxQueuedPrompts": .number(Double(maxQueuedPrompts)),
            "checkpointMilliseconds": .number(20),
        ]
        options.merge(extra) { $1 }
        let server = try await TestServer.start { configuration in
            configuration.runtime.idleTimeout = idleTimeout
            configuration.runtime.kinds["ai"] = try! RoomKind(
                name: "ai", roomClass: RoomClass(AIChatRoom.self), options: options)
        }
        return (server, provider)
    }

    static func text(of deltas: [[String: Any]]) -> String {
        deltas.compactMap { $0["text"] as? String }.joined()
    }

    @Test("three clients receive identical deltas through hostile chunking; the answer is stored complete")
    func threeClients() async throws {
        let (server, provider) = try await Self.servers()
        let clients = [
            try await server.socket("/rooms/ai/r/ws?user=ann"), try await server.socket("/rooms/ai/r/ws?user=bob"),
            try await server.socket("/rooms/ai/r/ws?user=cy"),
        ]
        for client in clients { try await client.waitFor(1, "welcome") }
        try await clients[0].waitFor(3, "presence")
        clients[0].send(json: ["type": "ai.prompt", "id": "q1", "text": "say hello"])
        let ack = try await clients[0].waitFor(1, "ack")[0]
        #expect(ack["seq"] as? Int == 1)
        var sequences: [[String]] = []
        for client in clients {
            let end = try await client.waitFor(1, "ai.end")[0]
            #expect(end["status"] as? String == "complete")
            #expect(end["seq"] as? Int == 2)
            let start = client.frames(ofType: "ai.start")[0]
            #expect(start["replyTo"] as? Int == 1)
            #expect(start["stream"] as? String == end["stream"] as? String)
            let deltas = client.frames(ofType: "ai.delta")
            #expect(deltas.map { $0["index"] as? Int } == Array(0..<deltas.count))
            sequences.append(deltas.compactMap { $0["text"] as? String })
        }
        #expect(sequences[0] == FakeOpenAIServer.answer)
        #expect(sequences[1] == sequences[0])
        #expect(sequences[2] == sequences[0])

        let history = try await server.http(.get, "/rooms/ai/r/messages").json["messages"] as? [[String: Any]] ?? []
        #expect(history.count == 2)
        #expect(history.last?["text"] as? String == FakeOpenAIServer.answer.joined())
        #expect(history.last?["user"] as? String == "assistant")
        #expect(history.last?["status"] as? String == "complete")
        #expect(history.last?["replyTo"] as? Int == 1)

        // The model saw the system prompt, then the prompt with its sender's name.
        let request = provider.requests.first ?? [:]
        #expect(request["stream"] as? Bool == true)
        #expect(request["model"] as? String == "fake-model")
        #expect(request["max_tokens"] as? Int == 64)
        let messages = request["messages"] as? [[String: String]] ?? []
        #expect(messages == [["role": "system", "content": "Be brief."], ["role": "user", "content": "ann: say hello"]])
        for client in clients { try await client.close() }
        try await server.stopAndRemove()
        try await provider.stop()
    }

    @Test("a client joining mid-stream gets ai.resume and ends with the same text; chat flows meanwhile")
    func lateJoiner() async throws {
        let (server, provider) = try await Self.servers()
        let ann = try await server.socket("/rooms/ai/late/ws?user=ann")
        ann.send(json: ["type": "ai.prompt", "id": "q1", "text": "#slower story"])
        try await ann.waitFor(5, "ai.delta")
        ann.send(json: ["type": "send", "id": "c1", "text": "meanwhile"])
        let chat = try await ann.waitFor(2, "message")[1]
        #expect(chat["text"] as? String == "meanwhile")
        #expect(ann.frames(ofType: "ai.end").isEmpty, "chat is not held up by the stream")

        let bob = try await server.socket("/rooms/ai/late/ws?user=bob")
        let resume = try await bob.waitFor(1, "ai.resume")[0]
        let welcomeIndex = bob.frames.firstIndex { $0["type"] as? String == "welcome" } ?? -1
        let resumeIndex = bob.frames.firstIndex { $0["type"] as? String == "ai.resume" } ?? -1
        #expect(welcomeIndex >= 0 && welcomeIndex < resumeIndex)
        let end = try await bob.waitFor(1, "ai.end")[0]
        #expect(end["status"] as? String == "complete")
        let bobDeltas = bob.frames(ofType: "ai.delta")
        let next = resume["index"] as? Int ?? -1
        #expect(next > 0)
        #expect(bobDeltas.first?["index"] as? Int == next)
        let bobText = (resume["text"] as? String ?? "") + Self.text(of: bobDeltas)
        try await ann.waitFor(1, "ai.end")
        let annText = Self.text(of: ann.frames(ofType: "ai.delta"))
        #expect(bobText == annText)
        #expect(annText == (0..<FakeOpenAIServer.slowerDeltas).map { "w\($0) " }.joined())
        try await ann.close()
        try await bob.close()
        try await server.stopAndRemove()
        try await provider.stop()
    }

    @Test("ai.cancel stops the answer and stores what was produced as cancelled")
    func cancel() async throws {
        let (server, provider) = try await Self.servers()
        let ann = try await server.socket("/rooms/ai/c/ws?user=ann")
        ann.send(json: ["type": "ai.cancel", "stream": "nope", "id": "x1"])
        let unknown = try await ann.waitFor(1, "error")[0]
        #expect(unknown["code"] as? String == "stream_not_found")
        ann.send(json: ["type": "ai.prompt", "text": "#slow please"])
        let stream = try await ann.waitFor(1, "ai.start")[0]["stream"] as? String ?? ""
        try await ann.waitFor(3, "ai.delta")
        ann.send(json: ["type": "ai.cancel", "stream": stream])
        let end = try await ann.waitFor(1, "ai.end")[0]
        #expect(end["status"] as? String == "cancelled")
        try await Task.sleep(for: FakeOpenAIServer.slowInterval * 4)
        let seen = Self.text(of: ann.frames(ofType: "ai.delta"))
        let history = try await server.http(.get, "/rooms/ai/c/messages").json["messages"] as? [[String: Any]] ?? []
        #expect(history.last?["status"] as? String == "cancelled")
        #expect(history.last?["text"] as? String == seen)
        #expect(seen.count < (0..<FakeOpenAIServer.slowDeltas).map { "w\($0) " }.joined().count)
        try await ann.close()
        try await server.stopAndRemove()
        try await provider.stop()
    }

    @Test(
        "a provider failure ends the stream with ai.error and status error; the next prompt works",
        arguments: [
            ("#error", "provider_error", "The model is overloaded"),
            ("#401", "provider_http_error", "Incorrect API key"),
            ("#drop", "provider_disconnected", "dropped"),
            ("#hang", "provider_timeout", "sent nothing for"),
        ])
    func providerFailure(trigger: String, code: String, message: String) async throws {
        let (server, provider) = try await Self.servers()
        let ann = try await server.socket("/rooms/ai/f/ws?user=ann")
        ann.send(json: ["type": "ai.prompt", "text": "please \(trigger)"])
        let error = try await ann.waitFor(1, "ai.error")[0]
        #expect(error["code"] as? String == code)
        #expect((error["message"] as? String ?? "").contains(message))
        let end = try await ann.waitFor(1, "ai.end")[0]
        #expect(end["status"] as? String == "error")
        #expect(end["stream"] as? String == error["stream"] as? String)

        ann.send(json: ["type": "ai.prompt", "text": "and now properly"])
        let ends = try await ann.waitFor(2, "ai.end")
        #expect(ends[1]["status"] as? String == "complete")
        let history = try await server.http(.get, "/rooms/ai/f/messages").json["messages"] as? [[String: Any]] ?? []
        #expect(history.map { $0["status"] as? String } == [nil, "error", nil, "complete"])
        #expect(history.last?["text"] as? String == FakeOpenAIServer.answer.joined())
        try await ann.close()
        try await server.stopAndRemove()
        try await provider.stop()
    }

    @Test("prompts queue behind the answer in progress; past the queue's bound they are refused and not stored")
    func queue() async throws {
        let (server, provider) = try await Self.servers(maxQueuedPrompts: 1)
        let ann = try await server.socket("/rooms/ai/q/ws?user=ann")
        ann.send(json: ["type": "ai.prompt", "id": "p1", "text": "#slow first"])
        try await ann.waitFor(1, "ai.start")
        ann.send(json: ["type": "ai.prompt", "id": "p2", "text": "second"])
        let queued = try await ann.waitFor(1, "ai.queued")[0]
        #expect(queued["replyTo"] as? Int == 2)
        #expect(queued["position"] as? Int == 1)
        ann.send(json: ["type": "ai.prompt", "id": "p3", "text": "third"])
        let busy = try await ann.waitFor(1, "error")[0]
        #expect(busy["code"] as? String == "ai_busy")
        #expect(busy["id"] as? String == "p3")
        let starts = try await ann.waitFor(2, "ai.start")
        #expect(starts[1]["replyTo"] as? Int == 2)
        let ends = try await ann.waitFor(2, "ai.end")
        #expect(ends.map { $0["status"] as? String } == ["complete", "complete"])
        let history = try await server.http(.get, "/rooms/ai/q/messages").json["messages"] as? [[String: Any]] ?? []
        #expect(history.compactMap { $0["id"] as? String }.filter { $0.hasPrefix("p") } == ["p1", "p2"])
        try await ann.close()
        try await server.stopAndRemove()
        try await provider.stop()
    }

    @Test("a room streaming an answer is not hibernated for idleness")
    func staysActiveWhileStreaming() async throws {
        let (server, provider) = try await Self.servers(idleTimeout: .milliseconds(100))
        let ann = try await server.socket("/rooms/ai/busy/ws?user=ann")
        ann.send(json: ["type": "ai.prompt", "text": "#slow long answer"])
        let end = try await ann.waitFor(1, "ai.end")[0]
        #expect(end["status"] as? String == "complete")
        #expect(ann.frames(ofType: "ai.error").isEmpty)
        #expect(ann.frames(ofType: "ai.delta").count == FakeOpenAIServer.slowDeltas)
        try await eventually("the room hibernated after the answer") {
            try await server.http(.get, "/rooms/ai/busy").json["active"] as? Bool == false
        }
        try await ann.close()
        try await server.stopAndRemove()
        try await provider.stop()
    }

    @Test(
        "bad AI frames get documented error codes and store nothing",
        arguments: [
            (#"{"type":"ai.prompt","id":"b1"}"#, "missing_field"),
            (#"{"type":"ai.prompt","id":"b1","text":""}"#, "missing_field"),
            (#"{"type":"ai.prompt","id":"b1","text":42}"#, "invalid_field"),
            (#"{"type":"ai.cancel","id":"b1"}"#, "missing_field"),
            (#"{"type":"ai.cancel","id":"b1","stream":7}"#, "invalid_field"),
            (#"{"type":"ai.unknown","id":"b1"}"#, "unknown_type"),
        ])
    func garbage(frame: String, code: String) async throws {
        let (server, provider) = try await Self.servers()
        let ann = try await server.socket("/rooms/ai/g/ws?user=ann")
        ann.send(frame)
        let error = try await ann.waitFor(1, "error")[0]
        #expect(error["code"] as? String == code)
        #expect(error["id"] as? String == "b1")
        ann.send(json: ["type": "ai.prompt", "id": "b2", "text": String(repeating: "x", count: 5000)])
        #expect(try await ann.waitFor(2, "error")[1]["code"] as? String == "text_too_long")
        #expect(try await server.http(.get, "/rooms/ai/g").json["lastSeq"] as? Int == 0)
        #expect(provider.requests.isEmpty)
        try await ann.close()
        try await server.stopAndRemove()
        try await provider.stop()
    }

    @Test("the API key comes from the environment variable the configuration names")
    func apiKey() async throws {
        // A variable the process already has (the tests need PATH), not one set here: setenv
        // while another test's Process.run copies the environment crashed the test process.
        let key = try #require(ProcessInfo.processInfo.environment["PATH"])
        let provider = try await FakeOpenAIServer.start()
        let (server, _) = try await Self.servers(extra: [
            "provider": .object([
                "type": .string("openai"), "baseURL": .string(provider.baseURL), "model": .string("m"),
                "apiKeyEnv": .string("PATH"),
            ])
        ])
        let ann = try await server.socket("/rooms/ai/k/ws?user=ann")
        ann.send(json: ["type": "ai.prompt", "text": "hi"])
        try await ann.waitFor(1, "ai.end")
        #expect(provider.authorizations.withLock { $0 } == ["Bearer \(key)"])
        try await ann.close()
        try await server.stopAndRemove()
        try await provider.stop()
    }
}
