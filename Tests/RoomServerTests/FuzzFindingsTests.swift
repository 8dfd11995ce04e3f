import Foundation
import HTTPTypes
@_spi(Node) import RoomRuntime
import Testing

/// What the fuzz targets found, checked end to end where it can be reached from outside (the
/// inputs themselves are in Fuzz/Crashes and replayed by `FuzzCorpusTests`).
@Suite("Fuzz findings")
struct FuzzFindingsTests {
    @Test(
        "A validly signed token whose exp or nbf is beyond the year 9999 (1e300, -1e300, near Int64.max in ms) is refused 401 naming the claim; it trapped the server before"
    )
    func farTimesInSignedTokens() async throws {
        let jwt = try await JWTServer.start(leewaySeconds: 30)
        let now = Date().timeIntervalSince1970
        let claims: [(String, [String: JSONValue])] = [
            ("exp", ["exp": .number(1e300)]),
            ("exp", ["exp": .number(-1e300)]),
            ("exp", ["exp": .number(9.2e15)]),  // ms + leeway over Int64.max
            ("nbf", ["nbf": .number(-1e300)]),
            ("nbf", ["nbf": .number(.greatestFiniteMagnitude)]),
        ]
        for (claim, extra) in claims {
            let token = try await jwt.mint.hs256("ann", 300, extra)
            for path in ["/rooms/chat/far/messages", "/rooms/chat/far/ws"] {
                let refused = try await path.hasSuffix("/ws")
                    ? jwt.server.refusedUpgrade(path, headers: JWTServer.bearer(token))
                    : jwt.server.http(.get, path, headers: JWTServer.bearer(token))
                #expect(refused.status == 401 && refused.errorCode == "unauthorized", "\(extra): \(refused.body)")
                #expect(refused.body.contains("\\\"\(claim)\\\"") || refused.body.contains("\"\(claim)\""), "\(extra): \(refused.body)")
            }
        }
        // The same node still accepts a good token: nothing trapped.
        let good = try await jwt.mint.hs256("ann", 300, ["nbf": .number(now - 10)])
        #expect(try await jwt.server.http(.get, "/rooms/chat/far/messages", headers: JWTServer.bearer(good)).status == 200)
    }
}
