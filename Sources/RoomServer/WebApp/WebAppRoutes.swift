import Foundation
import HTTPTypes
import Hummingbird
import Logging
@_spi(Node) import RoomRuntime
import WebApp

/// The web app (`clients/web`, docs/CLIENTS.md) at `/`: its files, served by Hummingbird's
/// `FileMiddleware` wherever no route matches (so no file can shadow a route), and
/// `GET /app/settings`, what the app must know of this node before anyone signs in.
struct WebAppRoutes: Sendable {
    /// The folder of the app's files (`WebApp.directory`).
    let directory: String
    let authMode: ServerConfiguration.AuthMode
    let kinds: [RoomKind]

    /// `GET /app/settings`: the authentication mode (the sign-in page asks for a name or a token)
    /// and the kinds a user can reach, with their class and access.
    struct Settings: Encodable {
        struct Kind: Encodable {
            let kind: String
            let `class`: String
            let access: String
        }
        let auth: String
        let kinds: [Kind]
    }

    func register(on router: Hummingbird.Router<BasicRequestContext>, logger: Logger) {
        // Inside RoomErrorMiddleware: a path that is neither a route nor a file still gets the
        // protocol's JSON 404. `no-cache`: browsers revalidate (ETag) and never run a stale app.
        router.add(
            middleware: FileMiddleware(
                directory, cacheControl: CacheControl([(MediaType(type: .any), [.noCache])]),
                searchForIndexHtml: true, logger: logger))
        let settings = Settings(
            auth: authMode.rawValue,
            kinds: kinds.filter(\.hasRoomRoutes).sorted { $0.name < $1.name }.map {
                Settings.Kind(kind: $0.name, class: $0.roomClass.name, access: $0.access.rawValue)
            })
        router.get("/app/settings") { _, _ in
            let response = try RoomResponse.json(settings)
            return Response(
                status: .ok, headers: [.contentType: response.contentType], body: ResponseBody(byteBuffer: response.body))
        }
    }
}
