import ExampleRooms
import Foundation
import HTTPTypes
@_spi(Node) import RoomRuntime
import RoomTesting
import TestSupport
import Testing

/// What the fuzz targets found, checked end to end where it can be reached from outside (the
/// inputs themselves are in Fuzz/Crashes and replayed by `FuzzCorpusTests`).
@Suite("Fuzz findings", .watched)
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

    @Test(
        "A doc op whose counts add up past Int.max is refused invalid_field with its id, the text unchanged; it trapped the room before"
    )
    func opCountsBeyondIntMax() async throws {
        let rooms = try TestRuntime(DocumentRoom.self)
        let ann = try rooms.connect("d", user: "ann")
        _ = try await ann.waitFor(ofType: "doc")
        await ann.send(#"{"type": "op", "id": "a1", "base": 0, "ops": [{"insert": "hello"}]}"#)
        _ = try await ann.waitFor(ofType: "op.ack")
        let overflowing = [
            #"[{"retain": 9223372036854775807}, {"delete": 1}]"#,
            #"[{"insert": "x"}, {"retain": 9223372036854775807}]"#,
            #"[{"retain": 2147483647}, {"delete": 1}]"#,
        ]
        for (index, ops) in overflowing.enumerated() {
            await ann.send(#"{"type": "op", "id": "big\#(index)", "base": 1, "ops": \#(ops)}"#)
            let error = try await ann.waitFor(index + 1, ofType: "error")[index]
            #expect(error["code"] as? String == "invalid_field", "\(ops): \(error)")
            #expect(error["id"] as? String == "big\(index)", "\(ops): \(error)")
        }
        let text = try await rooms.request("d", "GET", ["text"])
        #expect(text.json["version"] as? Int == 1 && text.json["text"] as? String == "hello", "\(text.json)")
        await rooms.stopAndRemove()
    }
}
