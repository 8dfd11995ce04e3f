import Foundation
import JWTKit
import NIOWebSocket
import WSCore
import HTTPTypes
@_spi(Node) import RoomRuntime
import RoomServer
import RoomTesting
import TestSupport
import Testing

/// A server in jwt mode: HS256 with a secret from the environment, ES256 and RS256 from a key set.
struct JWTServer {
    let server: TestServer
    let mint: TokenMint

    static func start(
        issuer: String? = nil, audience: String? = nil, leewaySeconds: Double = 0,
        configure: (inout ServerConfiguration) -> Void = { _ in }
    ) async throws -> JWTServer {
        let mint = try await TokenMint.make()
        let keyFile = FileManager.default.temporaryDirectory.appendingPathComponent("jwks-\(UUID().uuidString).json")
        try Data(mint.keySet.utf8).write(to: keyFile)
        let server = try await TestServer.start(environment: [TokenMint.variable: TokenMint.secret]) { configuration in
            configuration.auth.mode = .jwt
            configuration.auth.secretEnv = TokenMint.variable
            configuration.auth.jwksFile = keyFile.path
            configuration.auth.issuer = issuer
            configuration.auth.audience = audience
            configuration.auth.leeway = .milliseconds(Int64(leewaySeconds * 1000))
            configuration.runtime.kinds["team"] = try! RoomKind(
                name: "team", roomClass: configuration.runtime.kinds["chat"]!.roomClass, access: .members)
            configuration.runtime.kinds["dm"] = try! RoomKind(
                name: "dm", roomClass: configuration.runtime.kinds["chat"]!.roomClass, access: .direct)
            configure(&configuration)
        }
        return JWTServer(server: server, mint: mint)
    }

    static func bearer(_ token: String) -> HTTPFields {
        [.authorization: "Bearer \(token)"]
    }

    /// The room files on disk.
    func roomFiles() -> [String] {
        server.dataFiles().filter { $0.hasPrefix("rooms/") }
    }
}

@Suite("Authentication with signed tokens", .watched)
struct AuthTests {
    @Test("every route but /healthz needs a valid token; refusals come before the upgrade and create nothing")
    func refusals() async throws {
        let jwt = try await JWTServer.start(issuer: "https://auth.test", audience: "rooms")
        defer { Task { try? await jwt.server.stopAndRemove() } }
        let mint = jwt.mint
        let good: [String: JSONValue] = ["iss": "https://auth.test", "aud": "rooms"]
        let now = Date().timeIntervalSince1970
        let rsaPEM = mint.rsaKey.publicKey.pemRepresentation
        let bad: [(String, String)] = [
            ("garbage", "not-a-token"),
            ("broken base64", "%%%.###.!!!"),
            ("alg none", TokenMint.forged(
                header: #"{"alg":"none","typ":"JWT"}"#, claims: TokenMint.claims("ann", 300, good), secret: nil)),
            ("HS256 signed with the RSA public key as its secret", TokenMint.forged(
                header: #"{"alg":"HS256","typ":"JWT","kid":"rsa1"}"#, claims: TokenMint.claims("ann", 300, good),
                secret: rsaPEM)),
            ("HS256 signed with another secret", TokenMint.forged(
                header: #"{"alg":"HS256","typ":"JWT"}"#, claims: TokenMint.claims("ann", 300, good),
                secret: "another-secret-that-is-long-enough-for-hs256-xxxxxxxx")),
            ("an algorithm other than the key's", TokenMint.forged(
                header: #"{"alg":"ES256","typ":"JWT","kid":"rsa1"}"#, claims: TokenMint.claims("ann", 300, good),
                secret: "x")),
            ("expired", try await mint.hs256("ann", -120, good)),
            ("not yet valid", try await mint.hs256("ann", 300, good.merging(["nbf": .number(now + 600)]) { $1 })),
            ("wrong issuer", try await mint.hs256("ann", 300, ["iss": "https://evil.test", "aud": "rooms"])),
            ("wrong audience", try await mint.hs256("ann", 300, ["iss": "https://auth.test", "aud": "other"])),
            ("no sub", try await mint.hs256(nil, 300, good)),
            ("a sub with control characters", try await mint.hs256("ann\u{7}", 300, good)),
            ("16 KiB", try await mint.hs256("ann", 300, good.merging(["pad": .string(String(repeating: "p", count: 16_384))]) { $1 })),
        ]
        for (what, token) in bad {
            for path in ["/rooms/chat/refused/ws", "/rooms/chat/refused/messages"] {
                let refused = try await path.hasSuffix("/ws")
                    ? jwt.server.refusedUpgrade(path, headers: JWTServer.bearer(token))
                    : jwt.server.http(.get, path, headers: JWTServer.bearer(token))
                #expect(refused.status == 401, "\(what) on \(path): \(refused.status) \(refused.body)")
                #expect(refused.errorCode == "unauthorized", "\(what): \(refused.body)")
                #expect(refused.headers[.wwwAuthenticate] == #"Bearer error="invalid_token""#, "\(what)")
                #expect(!refused.body.contains(token), "\(what): the answer repeats the token")
            }
            // In the query too (what browsers use).
            let query = try await jwt.server.refusedUpgrade(
                "/rooms/chat/refused/ws?token=\(token.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")")
            #expect(query.status == 401, "\(what) in ?token=: \(query.status)")
        }
        // Authorization headers that are not a bearer token.
        let valid = try await mint.hs256("ann", 300, good)
        for header in ["Basic YW5uOnB3", "Bearer", "Bearer    ", "Bearer \(valid) trailing", "\(valid)"] {
            let refused = try await jwt.server.http(.get, "/rooms/chat/refused/messages", headers: [.authorization: header])
            #expect(refused.status == 401 && refused.errorCode == "unauthorized", "\(header): \(refused.body)")
        }
        let missing = try await jwt.server.refusedUpgrade("/rooms/chat/refused/ws?user=ann")
        #expect(missing.status == 401 && missing.errorCode == "unauthorized")
        #expect(try await jwt.server.http(.post, "/rooms/chat/refused/messages", body: #"{"user":"ann","text":"hi"}"#).status == 401)
        #expect(try await jwt.server.http(.get, "/healthz").status == 200)
        #expect(jwt.roomFiles() == [], "a refused request created \(jwt.roomFiles())")

        // A good token works, from either key.
        for token in [
            try await mint.hs256("ann", 300, good), try await mint.es256("ann", 300, good),
        ] {
            let socket = try await jwt.server.socket("/rooms/chat/open/ws", headers: JWTServer.bearer(token))
            let welcome = try await socket.waitFor(1, "welcome")[0]
            #expect(welcome["user"] as? String == "ann")
            try await socket.close()
        }
    }

    @Test("the token's sub is the user: ?user= and a body's user are ignored")
    func subIsTheUser() async throws {
        let jwt = try await JWTServer.start()
        defer { Task { try? await jwt.server.stopAndRemove() } }
        let token = try await jwt.mint.es256("ann")
        let socket = try await jwt.server.socket("/rooms/chat/who/ws?user=mallory&token=\(token)")
        let welcome = try await socket.waitFor(1, "welcome")[0]
        #expect(welcome["user"] as? String == "ann")
        let posted = try await jwt.server.http(
            .post, "/rooms/chat/who/messages", body: #"{"user": "mallory", "text": "hi"}"#,
            headers: JWTServer.bearer(token))
        #expect(posted.status == 201, "\(posted.body)")
        let message = try await socket.waitFor(1, "message")[0]
        #expect(message["user"] as? String == "ann")
        // The room never sees the token among the connection's parameters.
        #expect(welcome["token"] == nil)
        try await socket.close()
    }

    @Test("the rooms claim limits the rooms a token opens; operations routes need admin")
    func roomsAndAdmin() async throws {
        let jwt = try await JWTServer.start()
        defer { Task { try? await jwt.server.stopAndRemove() } }
        let limited = try await jwt.mint.hs256("ann", 300, ["rooms": ["chat/pub-*", "chat/exact"]])
        for (path, status) in [
            ("/rooms/chat/pub-1/ws", 101), ("/rooms/chat/exact/ws", 101), ("/rooms/chat/exactly/ws", 403),
            ("/rooms/chat/private/ws", 403), ("/rooms/team/pub-1/ws", 403),
        ] {
            if status == 101 {
                let socket = try await jwt.server.socket(path, headers: JWTServer.bearer(limited))
                _ = try await socket.waitFor(1, "welcome")
                try await socket.close()
            } else {
                let refused = try await jwt.server.refusedUpgrade(path, headers: JWTServer.bearer(limited))
                #expect(refused.status == 403 && refused.errorCode == "forbidden", "\(path): \(refused.body)")
            }
        }
        let forbidden = try await jwt.server.http(
            .post, "/rooms/chat/private/messages", body: #"{"text": "hi"}"#, headers: JWTServer.bearer(limited))
        #expect(forbidden.status == 403)
        #expect(!jwt.roomFiles().contains { _ in false })

        let user = try await jwt.mint.hs256("ann")
        let admin = try await jwt.mint.hs256("ops", 300, ["admin": true])
        for (method, path) in [(HTTPRequest.Method.get, "/rooms"), (.get, "/metrics"), (.delete, "/rooms/chat/pub-1")] {
            let refused = try await jwt.server.http(method, path, headers: JWTServer.bearer(user))
            #expect(refused.status == 403 && refused.errorCode == "forbidden", "\(path)")
            #expect(try await jwt.server.http(method, path).status == 401, "\(path) without a token")
        }
        #expect(try await jwt.server.http(.get, "/rooms", headers: JWTServer.bearer(admin)).status == 200)
        #expect(try await jwt.server.http(.get, "/metrics", headers: JWTServer.bearer(admin)).status == 200)
        #expect(try await jwt.server.http(.delete, "/rooms/chat/pub-1", headers: JWTServer.bearer(admin)).status == 204)
    }

    @Test("a live socket is closed with 4401 when its token expires, unless an auth frame refreshed it")
    func expiryAndRefresh() async throws {
        let jwt = try await JWTServer.start()
        defer { Task { try? await jwt.server.stopAndRemove() } }
        // 5 s: a 2 s token expired before its upgrade completed once, on a loaded CI machine.
        let expiring = try await jwt.server.socket(
            "/rooms/chat/expiry/ws", headers: JWTServer.bearer(try await jwt.mint.hs256("ann", 5)))
        // Long enough for the steps below on a loaded machine; the test waits past it.
        let firstTokenLifetime = Duration.seconds(8)
        let started = ContinuousClock.now
        let refreshed = try await jwt.server.socket(
            "/rooms/chat/expiry/ws", headers: JWTServer.bearer(try await jwt.mint.hs256("ann", 8)))
        _ = try await refreshed.waitFor(1, "welcome")
        // Garbage in an auth frame is answered, and changes nothing.
        refreshed.send(#"{"type": "auth", "id": "g", "token": "garbage"}"#)
        let garbage = try await refreshed.waitFor(1, "error")[0]
        #expect(garbage["code"] as? String == "unauthorized" && garbage["id"] as? String == "g")
        refreshed.send(#"{"type": "auth", "id": "old", "token": "\#(try await jwt.mint.hs256("ann", -60))"}"#)
        let expired = try await refreshed.waitFor(2, "error")[1]
        #expect(expired["code"] as? String == "unauthorized" && expired["id"] as? String == "old")
        refreshed.send(#"{"type": "auth", "id": "r1", "token": "\#(try await jwt.mint.es256("ann", 120))"}"#)
        let ok = try await refreshed.waitFor(1, "auth.ok")[0]
        #expect(ok["id"] as? String == "r1")
        #expect((ok["exp"] as? Double ?? 0) > Date().timeIntervalSince1970 * 1000 + 60_000)

        let close = try await expiring.closed()
        #expect(close?.closeCode == .init(codeNumber: 4401), "\(String(describing: close))")
        #expect(expiring.frames(ofType: "error").last?["code"] as? String == "token_expired")
        // The refreshed one outlives its first token.
        try await Task.sleep(until: started + firstTokenLifetime + .seconds(1))
        refreshed.send(#"{"type": "send", "id": "k1", "text": "still here"}"#)
        #expect(try await refreshed.waitFor(1, "ack")[0]["id"] as? String == "k1")

        // A refresh for another user is forbidden, and closes.
        refreshed.send(#"{"type": "auth", "id": "bob", "token": "\#(try await jwt.mint.hs256("bob"))"}"#)
        let closed = try await refreshed.closed()
        #expect(closed?.closeCode == .init(codeNumber: 4403))
        #expect(refreshed.frames(ofType: "error").last?["code"] as? String == "forbidden")
    }

    @Test("browsers: origins are checked on upgrades and answered with CORS on HTTP routes")
    func origins() async throws {
        let jwt = try await JWTServer.start()
        defer { Task { try? await jwt.server.stopAndRemove() } }
        let token = try await jwt.mint.hs256("ann")
        var evil = JWTServer.bearer(token)
        evil[.origin] = "https://evil.example"
        let hijack = try await jwt.server.refusedUpgrade("/rooms/chat/o/ws", headers: evil)
        #expect(hijack.status == 403 && hijack.errorCode == "forbidden_origin")
        await #expect(throws: (any Error).self) { try await jwt.server.socket("/rooms/chat/o/ws", headers: evil) }
        let read = try await jwt.server.http(.get, "/rooms/chat/o/messages", headers: evil)
        #expect(read.status == 403 && read.errorCode == "forbidden_origin")
        // The server's own origin is allowed by default.
        var own = JWTServer.bearer(token)
        own[.origin] = "http://127.0.0.1:\(jwt.server.port)"
        let socket = try await jwt.server.socket("/rooms/chat/o/ws", headers: own)
        _ = try await socket.waitFor(1, "welcome")
        try await socket.close()
        let allowed = try await jwt.server.http(.get, "/rooms/chat/o/messages", headers: own)
        #expect(allowed.status == 200)
        #expect(allowed.headers[.accessControlAllowOrigin] == "http://127.0.0.1:\(jwt.server.port)")

        let listed = try await JWTServer.start { $0.allowedOrigins = ["https://chat.example"] }
        defer { Task { try? await listed.server.stopAndRemove() } }
        let preflight = try await listed.server.http(
            .options, "/rooms/chat/o/messages",
            headers: [.origin: "https://chat.example", .accessControlRequestMethod: "POST"])
        #expect(preflight.status == 204)
        #expect(preflight.headers[.accessControlAllowOrigin] == "https://chat.example")
        #expect(preflight.headers[.accessControlAllowHeaders]?.contains("Authorization") == true)
        let refusedPreflight = try await listed.server.http(
            .options, "/rooms/chat/o/messages",
            headers: [.origin: "https://evil.example", .accessControlRequestMethod: "POST"])
        #expect(refusedPreflight.status == 403 && refusedPreflight.errorCode == "forbidden_origin")
        // A 401 carries the CORS headers too, so that the page can read why.
        let unauthorized = try await listed.server.http(.get, "/rooms/chat/o/messages", headers: [.origin: "https://chat.example"])
        #expect(unauthorized.status == 401)
        #expect(unauthorized.headers[.accessControlAllowOrigin] == "https://chat.example")
    }
}
