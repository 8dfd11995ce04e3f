import BuiltInRooms
import ChatRooms
import Foundation
@_spi(Node) import RoomRuntime
import RoomServer
import TestSupport
import Testing

@testable import rooms

@Suite("Configuration", .watched)
struct ConfigurationTests {
    /// The classes `rooms serve` runs.
    static var classes: RoomClassRegistry { BuiltInRoomClasses.registry }

    static func parse(_ json: String) throws -> ServerConfiguration {
        try ServerConfiguration.parse(Data(json.utf8), classes: classes)
    }

    @Test("the shipped example parses to the documented values")
    func example() throws {
        let file = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("rooms.example.json")
        let configuration = try ServerConfiguration.load(path: file.path, classes: Self.classes)
        #expect(configuration.host == "127.0.0.1")
        #expect(configuration.port == 8080)
        #expect(configuration.runtime.dataDirectory.lastPathComponent == "data")
        #expect(configuration.runtime.idleTimeout == .seconds(30))
        #expect(configuration.runtime.synchronous == .normal)
        #expect(configuration.runtime.warmDatabases == 64)
        #expect(configuration.runtime.roomCacheKiB == 256)
        #expect(configuration.runtime.warmTimeout == .seconds(60))
        #expect(configuration.runtime.kinds["chat"]?.roomClass.name == "chat")
        #expect(configuration.runtime.kinds["counter"]?.snapshotInterval == .seconds(60))
        #expect(configuration.runtime.kinds["game"]?.snapshotInterval == .seconds(30))
        #expect(configuration.runtime.kinds["game"]?.ttl == .seconds(2_592_000))
        #expect(configuration.runtime.kinds["ai"]?.roomClass.name == "ai-chat")
        #expect(configuration.authMode == .none)
        #expect(configuration.requestHeaderTimeout == .seconds(10))
        #expect(configuration.httpIdleTimeout == .seconds(60))
    }

    @Test("defaults: 127.0.0.1:8080, ./data, the chat kind")
    func defaults() throws {
        let configuration = try ServerConfiguration.defaults(classes: Self.classes)
        #expect(configuration.host == "127.0.0.1")
        #expect(configuration.port == 8080)
        #expect(configuration.runtime.dataDirectory.path.hasSuffix("/data"))
        #expect(configuration.runtime.kinds.keys.sorted() == ["chat", "inbox"])
        // Users' inboxes: served at /inbox, not at /rooms/inbox/...
        #expect(configuration.runtime.kinds["inbox"]?.roomClass.name == "inbox")
        #expect(configuration.runtime.kinds["inbox"]?.hasRoomRoutes == false)
        #expect(configuration.runtime.kinds["chat"]?.hasRoomRoutes == true)
        #expect(configuration.requestHeaderTimeout == .seconds(10))
        #expect(configuration.httpIdleTimeout == .seconds(60))
    }

    @Test("the HTTP timeouts take fractions of a second")
    func httpTimeouts() throws {
        let configuration = try Self.parse(
            #"{"kinds": {"chat": {"class": "chat"}}, "server": {"requestHeaderTimeoutSeconds": 2.5, "httpIdleTimeoutSeconds": 0.5}}"#)
        #expect(configuration.requestHeaderTimeout == .milliseconds(2_500))
        #expect(configuration.httpIdleTimeout == .milliseconds(500))
        #expect(configuration.eventStreamKeepAlive == .seconds(15))
        let keepAlive = try Self.parse(#"{"kinds": {"chat": {"class": "chat"}}, "server": {"sseKeepAliveSeconds": 2.5}}"#)
        #expect(keepAlive.eventStreamKeepAlive == .milliseconds(2_500))
        let heartBeat = try Self.parse(#"{"kinds": {"chat": {"class": "chat"}}, "server": {"stompHeartBeatSeconds": 0.5}}"#)
        #expect(heartBeat.stompHeartBeat == .milliseconds(500))
    }

    @Test(
        "bad configurations are refused with a message naming the key",
        arguments: [
            ("{", "not valid JSON"),
            ("[]", "must be an object"),
            (#"{"kinds": {}}"#, "kinds"),
            (#"{"kinds": {"chat": {"class": "chat"}}, "sever": {}}"#, "sever: unknown key"),
            (#"{"kinds": {"chat": {"class": "chat"}}, "server": {"prot": 1}}"#, "server.prot: unknown key"),
            (#"{"kinds": {"chat": {"class": "chat"}}, "server": {"port": 70000}}"#, "server.port"),
            (#"{"kinds": {"chat": {"class": "chat"}}, "server": {"port": "80"}}"#, "server.port"),
            (#"{"kinds": {"chat": {"class": "chat"}}, "server": {"port": 80.5}}"#, "server.port"),
            (#"{"kinds": {"chat": {"class": "chat"}}, "runtime": {"idleTimeoutSeconds": 0}}"#, "runtime.idleTimeoutSeconds"),
            (#"{"kinds": {"chat": {"class": "chat"}}, "server": {"requestHeaderTimeoutSeconds": 0}}"#, "server.requestHeaderTimeoutSeconds: must be a number from 0.1 to 3600"),
            (#"{"kinds": {"chat": {"class": "chat"}}, "server": {"requestHeaderTimeoutSeconds": "10"}}"#, "server.requestHeaderTimeoutSeconds"),
            (#"{"kinds": {"chat": {"class": "chat"}}, "server": {"httpIdleTimeoutSeconds": -1}}"#, "server.httpIdleTimeoutSeconds: must be a number from 0.1 to 86400"),
            (#"{"kinds": {"chat": {"class": "chat"}}, "server": {"httpIdleTimeoutSeconds": 100000}}"#, "server.httpIdleTimeoutSeconds"),
            (#"{"kinds": {"chat": {"class": "chat"}}, "server": {"maxWaitingPolls": 0}}"#, "server.maxWaitingPolls"),
            (#"{"kinds": {"chat": {"class": "chat"}}, "server": {"maxWaitingPolls": 1.5}}"#, "server.maxWaitingPolls"),
            (#"{"kinds": {"chat": {"class": "chat"}}, "server": {"sseKeepAliveSeconds": 0}}"#, "server.sseKeepAliveSeconds: must be a number from 0.1 to 3600"),
            (#"{"kinds": {"chat": {"class": "chat"}}, "server": {"sseKeepAliveSeconds": "15"}}"#, "server.sseKeepAliveSeconds"),
            (#"{"kinds": {"chat": {"class": "chat"}}, "server": {"stompHeartBeatSeconds": -1}}"#, "server.stompHeartBeatSeconds: must be a number from 0 to 3600"),
            (#"{"kinds": {"chat": {"class": "chat"}}, "server": {"stompHeartBeatSeconds": "10"}}"#, "server.stompHeartBeatSeconds"),
            (#"{"kinds": {"chat": {"class": "chat"}}, "storage": {"synchronous": "sometimes"}}"#, "storage.synchronous"),
            (#"{"kinds": {"chat": {"class": "chat"}}, "storage": {"warmDatabases": -1}}"#, "storage.warmDatabases"),
            (#"{"kinds": {"chat": {"class": "chat"}}, "storage": {"warmDatabases": "many"}}"#, "storage.warmDatabases"),
            (#"{"kinds": {"chat": {"class": "chat"}}, "storage": {"roomCacheKiB": 8}}"#, "storage.roomCacheKiB"),
            (#"{"kinds": {"chat": {"class": "chat"}}, "storage": {"roomCacheKiB": 1.5}}"#, "storage.roomCacheKiB"),
            (#"{"kinds": {"chat": {"class": "chat"}}, "storage": {"warmSeconds": 0}}"#, "storage.warmSeconds"),
            (#"{"kinds": {"chat": {"class": "chat"}}, "cluster": {"nodeID": "n1", "advertise": "http://h:1"}}"#, "cluster.postgresURLEnv: required"),
            (#"{"kinds": {"chat": {"class": "chat"}}, "cluster": {"postgresURLEnv": "postgres://u:pw@h/db", "nodeID": "n1", "advertise": "http://h:1"}}"#, "cluster.postgresURLEnv: must name an environment variable"),
            (#"{"kinds": {"chat": {"class": "chat"}}, "cluster": {"postgresURLEnv": "PG", "advertise": "http://h:1"}}"#, "cluster.nodeID: required"),
            (#"{"kinds": {"chat": {"class": "chat"}}, "cluster": {"postgresURLEnv": "PG", "nodeID": "../up", "advertise": "http://h:1"}}"#, "cluster.nodeID"),
            (#"{"kinds": {"chat": {"class": "chat"}}, "cluster": {"postgresURLEnv": "PG", "nodeID": "..", "advertise": "http://h:1"}}"#, "cluster.nodeID"),
            (#"{"kinds": {"chat": {"class": "chat"}}, "cluster": {"postgresURLEnv": "PG", "nodeID": "n1"}}"#, "cluster.advertise: required"),
            (#"{"kinds": {"chat": {"class": "chat"}}, "cluster": {"postgresURLEnv": "PG", "nodeID": "n1", "advertise": "10.0.0.5:8080"}}"#, "cluster.advertise"),
            (#"{"kinds": {"chat": {"class": "chat"}}, "cluster": {"postgresURLEnv": "PG", "nodeID": "n1", "advertise": "ftp://h"}}"#, "cluster.advertise"),
            (#"{"kinds": {"chat": {"class": "chat"}}, "cluster": {"postgresURLEnv": "PG", "nodeID": "n1", "advertise": "http://10.0.0.5:8080", "leaseSeconds": 1}}"#, "cluster.leaseSeconds: must be a number from 2 to 600"),
            (#"{"kinds": {"chat": {"class": "chat"}}, "cluster": {"postgresURLEnv": "PG", "nodeID": "n1", "advertise": "http://10.0.0.5:8080", "leaseSeconds": "10"}}"#, "cluster.leaseSeconds"),
            (#"{"kinds": {"chat": {"class": "chat"}}, "cluster": {"postgresURLEnv": "PG", "nodeID": "n1", "advertise": "http://10.0.0.5:8080", "lease": 10}}"#, "cluster.lease: unknown key"),
            (#"{"kinds": {"chat": {"class": "chat"}}, "cluster": "yes"}"#, "cluster"),
            (#"{"kinds": {"chat": {"class": "chat"}}, "auth": {"mode": "jwt"}}"#, "jwt mode needs \"secretEnv\" or \"jwksFile\""),
            (#"{"kinds": {"chat": {"class": "chat"}}, "auth": {"mode": "sso"}}"#, "auth.mode"),
            (#"{"kinds": {"chat": {"class": "chat"}}, "auth": {"mode": "jwt", "secret": "s3cr3t"}}"#, "auth.secret: unknown key"),
            (#"{"kinds": {"chat": {"class": "chat"}}, "auth": {"mode": "jwt", "secretEnv": "my secret value"}}"#, "auth.secretEnv"),
            (#"{"kinds": {"chat": {"class": "chat"}}, "auth": {"mode": "jwt", "secretEnv": "S", "leewaySeconds": 301}}"#, "auth.leewaySeconds"),
            (#"{"kinds": {"chat": {"class": "chat"}}, "auth": {"mode": "jwt", "secretEnv": "S", "issuer": 5}}"#, "auth.issuer"),
            (#"{"kinds": {"chat": {"class": "chat"}}, "server": {"allowedOrigins": "*"}}"#, "server.allowedOrigins: must be a list"),
            (#"{"kinds": {"chat": {"class": "chat"}}, "server": {"allowedOrigins": ["chat.example.com"]}}"#, "server.allowedOrigins"),
            (#"{"kinds": {"chat": {"class": "chat"}}, "server": {"allowedOrigins": ["https://a.example/path"]}}"#, "server.allowedOrigins"),
            (#"{"kinds": {"team": {"class": "chat", "access": "private"}}}"#, "kinds.team.access"),
            (#"{"kinds": {"r": {"class": "relay", "access": "members"}}}"#, "ephemeral"),
            (#"{"kinds": {"chat": {"class": "chat"}}, "log": {"level": "loud"}}"#, "log.level"),
            (#"{"kinds": {"chat": {}}}"#, "kinds.chat.class: required"),
            (#"{"kinds": {"chat": {"class": "chta"}}}"#, "unknown class 'chta'"),
            (#"{"kinds": {"chat": "chat"}}"#, "kinds.chat: must be an object"),
            (#"{"kinds": {"Chat": {"class": "chat"}}}"#, "kinds.Chat"),
            (#"{"kinds": {"chat": {"class": "chat", "maxTextByte": 10}}}"#, "unknown option 'maxTextByte'"),
            (#"{"kinds": {"chat": {"class": "chat", "maxTextBytes": 0}}}"#, "maxTextBytes"),
            (#"{"kinds": {"chat": {"class": "chat", "maxTextBytes": "big"}}}"#, "maxTextBytes"),
            (#"{"kinds": {"chat": {"class": "chat", "ttlSeconds": 0}}}"#, "kinds.chat.ttlSeconds"),
            (#"{"kinds": {"chat": {"class": "chat", "ttlSeconds": "1d"}}}"#, "kinds.chat.ttlSeconds"),
            (#"{"kinds": {"chat": {"class": "chat", "snapshotIntervalSeconds": 5}}}"#, "class 'chat' takes no snapshots"),
            (#"{"kinds": {"c": {"class": "counter", "snapshotIntervalSeconds": -1}}}"#, "kinds.c.snapshotIntervalSeconds"),
            (#"{"kinds": {"chat": {"class": "chat", "maxScheduleAheadSeconds": 0}}}"#, "maxScheduleAheadSeconds"),
            (#"{"kinds": {"chat": {"class": "chat", "maxScheduledMessages": -1}}}"#, "maxScheduledMessages"),
            (#"{"kinds": {"chat": {"class": "chat", "maxReplayMessages": -1}}}"#, "maxReplayMessages"),
            (#"{"kinds": {"chat": {"class": "chat", "maxReplayMessages": "all"}}}"#, "maxReplayMessages"),
            (#"{"kinds": {"g": {"class": "game", "turnTimeoutSeconds": 0}}}"#, "turnTimeoutSeconds"),
            (#"{"kinds": {"g": {"class": "game", "turnTimeout": 5}}}"#, "unknown option 'turnTimeout'"),
            (#"{"kinds": {"c": {"class": "counter", "start": 5}}}"#, "this class takes none"),
            (#"{"kinds": {"d": {"class": "doc", "snapshotEvery": 0}}}"#, "kinds.d.snapshotEvery"),
            (#"{"kinds": {"d": {"class": "doc", "keepVersions": -1}}}"#, "kinds.d.keepVersions"),
            (#"{"kinds": {"d": {"class": "doc", "maxDocumentBytes": "1MB"}}}"#, "kinds.d.maxDocumentBytes"),
            (#"{"kinds": {"d": {"class": "doc", "maxOperationBytes": 10}}}"#, "kinds.d.maxOperationBytes"),
            (#"{"kinds": {"d": {"class": "doc", "cursorIntervalMilliseconds": 60001}}}"#, "kinds.d.cursorIntervalMilliseconds"),
            (#"{"kinds": {"d": {"class": "doc", "snapshotEvry": 5}}}"#, "unknown option 'snapshotEvry'"),
            (#"{"kinds": {"ai": {"class": "ai-chat", "provider": {"type": "gpt"}}}}"#, "must be \"local\" or \"openai\""),
            (#"{"kinds": {"ai": {"class": "ai-chat", "provider": {"type": "local", "speed": 1}}}}"#, "speed"),
            (#"{"kinds": {"ai": {"class": "ai-chat", "provider": {"type": "openai", "model": "m"}}}}"#, "baseURL"),
            (#"{"kinds": {"inbox": {"class": "chat"}}}"#, "kinds.inbox: the kind name 'inbox' is reserved"),
            (#"{"kinds": {"chat": {"class": "chat", "receiptIntervalMilliseconds": -1}}}"#, "receiptIntervalMilliseconds"),
            (#"{"kinds": {"chat": {"class": "chat", "presenceLimit": "many"}}}"#, "presenceLimit"),
            (#"{"kinds": {"chat": {"class": "chat", "inboxDelayMilliseconds": 60001}}}"#, "inboxDelayMilliseconds"),
            (#"{"kinds": {"chat": {"class": "chat"}}, "push": {"secretEnv": "S"}}"#, "push.url: required"),
            (#"{"kinds": {"chat": {"class": "chat"}}, "push": {"url": "ftp://push.example/x", "secretEnv": "S"}}"#, "push.url: 'ftp://push.example/x' is not an http or https URL"),
            (#"{"kinds": {"chat": {"class": "chat"}}, "push": {"url": "push.example/x", "secretEnv": "S"}}"#, "push.url"),
            (#"{"kinds": {"chat": {"class": "chat"}}, "push": {"url": "https://push.example/x"}}"#, "push.secretEnv: required"),
            (#"{"kinds": {"chat": {"class": "chat"}}, "push": {"url": "https://push.example/x", "secretEnv": "a secret"}}"#, "push.secretEnv: must name"),
            (#"{"kinds": {"chat": {"class": "chat"}}, "push": {"url": "https://push.example/x", "secretEnv": "S", "delaySeconds": -1}}"#, "push.delaySeconds"),
            (#"{"kinds": {"chat": {"class": "chat"}}, "push": {"url": "https://push.example/x", "secretEnv": "S", "retries": 3}}"#, "push.retries: unknown key"),
            (#"{"kinds": {"chat": {"class": "chat"}}, "push": "https://push.example/x"}"#, "push: must be an object"),
            (#"{"kinds": {"ai": {"class": "ai-chat", "provider": {"type": "openai", "baseURL": "ftp://x", "model": "m"}}}}"#, "baseURL"),
            (#"{"kinds": {"ai": {"class": "ai-chat", "provider": {"type": "openai", "baseURL": "http://h/v1", "model": "m", "apiKeyEnv": "ROOMS_NO_SUCH_VARIABLE"}}}}"#, "ROOMS_NO_SUCH_VARIABLE' is not set"),
            (#"{"kinds": {"ai": {"class": "ai-chat", "provider": {"type": "openai", "baseURL": "http://h/v1", "model": "m", "temperature": 5}}}}"#, "temperature"),
            (#"{"kinds": {"ai": {"class": "ai-chat", "maxQueuedPrompts": -1}}}"#, "maxQueuedPrompts"),
            (#"{"kinds": {"ai": {"class": "ai-chat", "systemPromt": "x"}}}"#, "unknown option 'systemPromt'"),
            (#"{"kinds": {"ai": {"class": "ai-chat", "maxTextBytes": 0}}}"#, "maxTextBytes"),
        ])
    func refused(json: String, message: String) {
        let error = #expect(throws: (any Error).self) { try Self.parse(json) }
        #expect("\(error.map { "\($0)" } ?? "")".contains(message), "\(error.map { "\($0)" } ?? "no error")")
    }

    @Test("a missing file is a clear error")
    func missingFile() {
        let error = #expect(throws: ConfigurationError.self) {
            try ServerConfiguration.load(path: "/nonexistent/rooms.json", classes: Self.classes)
        }
        #expect(error?.message.contains("/nonexistent/rooms.json") == true)
    }

    @Test("configuration errors carry the offending key's path apart from the reason", arguments: [
        (#"{"kinds": {"chat": {"class": "chat"}}, "server": {"port": 70000}}"#, "server.port"),
        (#"{"kinds": {"chat": {"class": "chat"}}, "runtime": {"maxQueuedEvents": 0}}"#, "runtime.maxQueuedEvents"),
        (#"{"kinds": {"chat": {"class": "chat"}}, "runtime": {"maxFramesInFlight": "many"}}"#, "runtime.maxFramesInFlight"),
        (#"{"kinds": {"chat": {"class": "chat", "maxTextByte": 10}}}"#, "kinds.chat.maxTextByte"),
        (#"{"kinds": {"chat": {"class": "chat", "maxTextBytes": 0}}}"#, "kinds.chat.maxTextBytes"),
        (#"{"kinds": {"chat": {"class": "chat", "ttlSeconds": 0}}}"#, "kinds.chat.ttlSeconds"),
        (#"{"kinds": {"chat": {"class": "chat"}}, "server": {"prot": 1}}"#, "server.prot"),
        (#"{"kinds": {}}"#, "kinds"),
        (#"{"kinds": {"chat": {"class": "chat"}}, "server": {"webApp": "yes"}}"#, "server.webApp"),
    ])
    func keyPaths(json: String, keyPath: String) {
        let error = #expect(throws: ConfigurationError.self) { try Self.parse(json) }
        #expect(error?.keyPath == keyPath, "\(error.map { "\($0)" } ?? "no error")")
        #expect(error?.reason.isEmpty == false)
        #expect(error?.reason.hasPrefix(keyPath + ":") == false)
    }

    @Test("the runtime's bounds are read from the file")
    func runtimeBounds() throws {
        let configuration = try Self.parse(
            #"{"kinds": {"chat": {"class": "chat"}}, "runtime": {"maxQueuedEvents": 50, "maxFramesInFlight": 8}}"#)
        #expect(configuration.runtime.maxQueuedEvents == 50)
        #expect(configuration.runtime.maxFramesInFlight == 8)
    }

    @Test("the auth section, origins and kinds' access are read from the file")
    func authSection() throws {
        let configuration = try Self.parse(
            #"""
            {"server": {"allowedOrigins": ["https://Chat.Example", "*"]},
             "auth": {"mode": "jwt", "secretEnv": "ROOMS_JWT_SECRET", "jwksFile": "keys/jwks.json",
                      "issuer": "https://auth.example.com", "audience": "rooms", "leewaySeconds": 2.5},
             "kinds": {"chat": {"class": "chat"}, "team": {"class": "chat", "access": "members"},
                       "dm": {"class": "chat", "access": "direct"}}}
            """#)
        #expect(configuration.auth.mode == .jwt)
        #expect(configuration.auth.secretEnv == "ROOMS_JWT_SECRET")
        #expect(configuration.auth.jwksFile == "keys/jwks.json")
        #expect(configuration.auth.issuer == "https://auth.example.com")
        #expect(configuration.auth.audience == "rooms")
        #expect(configuration.auth.leeway == .milliseconds(2_500))
        #expect(configuration.allowedOrigins == ["https://Chat.Example", "*"])
        #expect(configuration.runtime.kinds["chat"]?.access == .open)
        #expect(configuration.runtime.kinds["team"]?.access == .members)
        #expect(configuration.runtime.kinds["dm"]?.access == .direct)
    }

    @Test("the push section: the webhook, its secret's variable, the delay")
    func pushSection() throws {
        let configuration = try ServerConfiguration.parse(
            Data(
                #"{"kinds": {"chat": {"class": "chat"}}, "push": {"url": "https://push.example/rooms", "secretEnv": "ROOMS_PUSH_SECRET", "delaySeconds": 2.5, "timeoutSeconds": 3}}"#
                    .utf8), classes: Self.classes)
        #expect(configuration.push?.url.absoluteString == "https://push.example/rooms")
        #expect(configuration.push?.secretEnv == "ROOMS_PUSH_SECRET")
        #expect(configuration.push?.delay == .milliseconds(2_500))
        #expect(configuration.push?.timeout == .seconds(3))
        #expect(try ServerConfiguration.defaults(classes: Self.classes).push == nil)
    }

    @Test("the cluster section: the PostgreSQL variable, the node ID (which places the node's own files), the address, the lease")
    func clusterSection() throws {
        let configuration = try ServerConfiguration.parse(
            Data(
                #"{"kinds": {"chat": {"class": "chat"}}, "cluster": {"postgresURLEnv": "ROOMS_POSTGRES_URL", "nodeID": "eu-1", "advertise": "http://10.0.0.5:8080", "leaseSeconds": 4.5}}"#
                    .utf8), classes: Self.classes)
        #expect(configuration.cluster?.postgresURLEnv == "ROOMS_POSTGRES_URL")
        #expect(configuration.cluster?.nodeID == "eu-1")
        #expect(configuration.cluster?.advertise.absoluteString == "http://10.0.0.5:8080")
        #expect(configuration.cluster?.lease == .milliseconds(4_500))
        #expect(configuration.runtime.nodeID == "eu-1")
        let alone = try ServerConfiguration.defaults(classes: Self.classes)
        #expect(alone.cluster == nil)
        #expect(alone.runtime.nodeID == nil)
        let defaultLease = try ServerConfiguration.parse(
            Data(#"{"kinds": {"chat": {"class": "chat"}}, "cluster": {"postgresURLEnv": "P", "nodeID": "n", "advertise": "https://n.example"}}"#.utf8),
            classes: Self.classes)
        #expect(defaultLease.cluster?.lease == .seconds(10))
    }

    @Test("a push secret missing from the environment stops the server at start, naming push.secretEnv")
    func missingPushSecret() async throws {
        var configuration = try ServerConfiguration.defaults(classes: Self.classes)
        configuration.port = 0
        configuration.runtime.dataDirectory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "rooms-push-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: configuration.runtime.dataDirectory) }
        configuration.push = PushConfiguration(url: URL(string: "https://push.example/x")!, secretEnv: "ROOMS_UNSET_PUSH")
        for environment in [[:], ["ROOMS_UNSET_PUSH": ""]] {
            do {
                _ = try await RoomServer(configuration: configuration, environment: environment)
                Issue.record("the server started")
            } catch let error as ConfigurationError {
                #expect(error.keyPath == "push.secretEnv", "\(error)")
                #expect(error.reason.contains("ROOMS_UNSET_PUSH is not set"), "\(error)")
            }
        }
    }

    @Test(
        "keys that cannot be loaded stop the server at start, naming the key and never the secret",
        arguments: [
            ("ROOMS_UNSET_VARIABLE", nil, nil, "auth.secretEnv", "is not set"),
            ("ROOMS_SHORT", "short-secret", nil, "auth.secretEnv", "shorter than 32 bytes"),
            (nil, nil, "/nonexistent/jwks.json", "auth.jwksFile", "cannot read"),
            (nil, nil, #"{"keys": []}"#, "auth.jwksFile", "at least one key"),
            (nil, nil, #"{"keys": [{"kty": "EC", "crv": "P-256", "x": "AA", "y": "AA"}]}"#, "auth.jwksFile", "no \"kid\""),
            (nil, nil, #"{"keys": [{"kty": "oct", "kid": "k", "k": "c2VjcmV0"}]}"#, "auth.jwksFile", "accepted: RSA"),
        ] as [(String?, String?, String?, String, String)])
    func unloadableKeys(variable: String?, secret: String?, keySet: String?, keyPath: String, reason: String) async throws {
        var configuration = try ServerConfiguration.defaults(classes: Self.classes)
        configuration.port = 0
        configuration.runtime.dataDirectory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "rooms-keys-\(UUID().uuidString)")
        // The key set, when the case writes one, goes beside the data directory.
        let keyFile = configuration.runtime.dataDirectory.appendingPathExtension("jwks.json")
        defer {
            try? FileManager.default.removeItem(at: configuration.runtime.dataDirectory)
            try? FileManager.default.removeItem(at: keyFile)
        }
        configuration.auth.mode = .jwt
        configuration.auth.secretEnv = variable
        if let keySet {
            if keySet.hasPrefix("/") {
                configuration.auth.jwksFile = keySet
            } else {
                try Data(keySet.utf8).write(to: keyFile)
                configuration.auth.jwksFile = keyFile.path
            }
        }
        let environment = variable.flatMap { name in secret.map { [name: $0] } } ?? [:]
        do {
            _ = try await RoomServer(configuration: configuration, environment: environment)
            Issue.record("the server started")
        } catch let error as ConfigurationError {
            #expect(error.keyPath == keyPath, "\(error)")
            #expect(error.reason.contains(reason), "\(error)")
            if let secret { #expect(!"\(error)".contains(secret)) }
        }
    }
}

