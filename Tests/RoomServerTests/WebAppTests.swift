import Foundation
import HTTPTypes
@_spi(Node) import RoomRuntime
import RoomServer
import TestSupport
import Testing

/// The web app's files and settings at `/` (the app itself is tested in a real browser:
/// WebAppBrowserTests).
@Suite("The web app's files", .watched)
struct WebAppTests {
    static let repository = RoomsBinary.packageRoot

    @Test("/ serves the app, /rooms.js the JavaScript client as it is in clients/js, with validators; routes win over files; a path that is neither gets the JSON 404")
    func files() async throws {
        let server = try await TestServer.start()
        let page = try await server.http(.get, "/")
        #expect(page.status == 200)
        #expect(page.headers[.contentType]?.hasPrefix("text/html") == true)
        #expect(page.headers[.cacheControl] == "no-cache")
        #expect(page.body.contains(#"<script type="module" src="/app.js">"#))

        let client = try await server.http(.get, "/rooms.js")
        #expect(client.status == 200)
        #expect(client.headers[.contentType]?.contains("javascript") == true)
        let original = try String(contentsOf: Self.repository.appendingPathComponent("clients/js/rooms.js"), encoding: .utf8)
        #expect(client.body == original, "the app runs the library users get")
        let etag = try #require(client.headers[.eTag])
        let again = try await server.http(.get, "/rooms.js", headers: [.ifNoneMatch: etag])
        #expect(again.status == 304)

        for (path, type) in [("/app.js", "javascript"), ("/app.css", "text/css"), ("/index.html", "text/html")] {
            let file = try await server.http(.get, path)
            #expect(file.status == 200, "\(path)")
            #expect(file.headers[.contentType]?.contains(type) == true, "\(path): \(file.headers)")
        }
        // A route is never shadowed by a file, and a path that is neither is the protocol's 404.
        let health = try await server.http(.get, "/healthz")
        #expect(health.json["status"] as? String == "ok")
        for path in ["/nothing-here.js", "/rooms/chat", "/app", "/../Package.swift", "/%2e%2e/%2e%2e/Package.swift"] {
            let missing = try await server.http(.get, path)
            #expect([400, 404].contains(missing.status), "\(path): \(missing.status)")
            #expect(!missing.body.contains("swift-tools-version"), "\(path) must not leave the app's folder")
            #expect(missing.json["error"] != nil, "\(path): \(missing.body)")
        }
        let posted = try await server.http(.post, "/app.js", body: "x")
        #expect(posted.status == 404 || posted.status == 405)
        #expect(!server.dataFiles().contains { $0.hasPrefix("rooms/") }, "serving the app creates no room")
        try await server.stopAndRemove()
    }

    @Test("GET /app/settings: the authentication mode and the kinds a user can reach, the inbox not among them")
    func settings() async throws {
        let server = try await TestServer.start { configuration in
            configuration.runtime.kinds["dm"] = try! RoomKind(
                name: "dm", roomClass: configuration.runtime.kinds["chat"]!.roomClass, access: .direct)
        }
        let settings = try await server.http(.get, "/app/settings")
        #expect(settings.status == 200)
        #expect(settings.json["auth"] as? String == "none")
        let kinds = try #require(settings.json["kinds"] as? [[String: Any]])
        let byName = Dictionary(uniqueKeysWithValues: kinds.map { ($0["kind"] as? String ?? "", $0) })
        #expect(byName["chat"]?["class"] as? String == "chat")
        #expect(byName["chat"]?["access"] as? String == "open")
        #expect(byName["dm"]?["access"] as? String == "direct")
        #expect(byName["inbox"] == nil)
        #expect(kinds.map { $0["kind"] as? String ?? "" } == kinds.map { $0["kind"] as? String ?? "" }.sorted())
        try await server.stopAndRemove()
    }

    @Test("in jwt mode the app and its settings need no token (the page is where one signs in); the API still does")
    func jwtMode() async throws {
        let server = try await TestServer.start(environment: [TokenMint.variable: TokenMint.secret]) { configuration in
            configuration.auth.mode = .jwt
            configuration.auth.secretEnv = TokenMint.variable
        }
        #expect(try await server.http(.get, "/").status == 200)
        #expect(try await server.http(.get, "/rooms.js").status == 200)
        let settings = try await server.http(.get, "/app/settings")
        #expect(settings.json["auth"] as? String == "jwt")
        #expect(try await server.http(.get, "/inbox").status == 401)
        try await server.stopAndRemove()
    }

    @Test("server.webApp false: no app, no settings, the API as before")
    func switchedOff() async throws {
        let server = try await TestServer.start { $0.webApp = false }
        for path in ["/", "/rooms.js", "/app.js", "/app/settings"] {
            let response = try await server.http(.get, path)
            #expect(response.status == 404, "\(path)")
            #expect((response.json["error"] as? [String: Any])?["code"] as? String == "not_found", "\(path)")
        }
        #expect(try await server.http(.get, "/healthz").status == 200)
        try await server.stopAndRemove()
    }
}
