import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

/// The room's HTTP routes the client uses: history (to fill gaps and for ``RoomClient/history(after:before:limit:)``),
/// the inbox, and the room itself (to learn why an upgrade was refused). On `HTTPClient.shared`.
struct RoomHTTP: Sendable {
    let url: RoomURL
    let timeout: Duration

    /// A GET of `address`: the status and the body as JSON (nil when it is not JSON).
    func get(_ address: String, token: String?) async throws(RoomsError) -> (status: Int, body: JSONValue?) {
        var request = HTTPClientRequest(url: address)
        request.method = .GET
        if let token { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
        do {
            let response = try await HTTPClient.shared.execute(request, timeout: .milliseconds(timeout.milliseconds))
            let body = try await response.body.collect(upTo: 64 << 20)
            let json = try? JSONDecoder().decode(JSONValue.self, from: Data(body.readableBytesView))
            return (Int(response.status.code), json)
        } catch {
            throw RoomsError(code: "not_connected", message: "GET \(address): \(error)")
        }
    }

    /// A page of messages: `after` (ascending from there), `before` (the newest before it), `limit`.
    func messages(after: Int?, before: Int?, limit: Int, token: String?) async throws(RoomsError) -> [Message] {
        var parameters = [("limit", String(limit))]
        if let after { parameters.append(("after", String(after))) }
        if let before { parameters.append(("before", String(before))) }
        let (status, body) = try await get(url.httpURL("/messages", parameters: parameters), token: token)
        guard status == 200 else { throw Self.refusal(status: status, body: body) }
        guard let entries = body?["messages"]?.arrayValue else {
            throw RoomsError(code: "invalid_response", message: "history answered without 'messages'")
        }
        return entries.compactMap(Message.init)
    }

    /// Every room of the user's inbox (all pages).
    func inbox(token: String?) async throws(RoomsError) -> [InboxRoom] {
        var rooms: [InboxRoom] = []
        var cursor: String?
        repeat {
            var parameters = [("limit", "200")]
            if let cursor { parameters.append(("cursor", cursor)) }
            let (status, body) = try await get(url.httpURL(base: "/inbox", parameters: parameters), token: token)
            guard status == 200 else { throw Self.refusal(status: status, body: body) }
            rooms += body?["rooms"]?.arrayValue?.compactMap(InboxRoom.init) ?? []
            cursor = body?["cursor"]?.stringValue
        } while cursor != nil
        return rooms
    }

    /// Why an upgrade was refused, asked of the room (or the inbox) over HTTP: the close code the
    /// refusal stands for and the server's error code; nil when nothing final is known.
    func probe(token: String?) async -> (code: Int, reason: String)? {
        let address = url.isInbox ? url.httpURL(base: "/inbox", parameters: [("limit", "1")]) : url.httpURL()
        guard let (status, body) = try? await get(address, token: token),
            let code = CloseCode.forRefusal(status: status)
        else { return nil }
        return (code, body?["error"]?["code"]?.stringValue ?? String(status))
    }

    /// The server's error in an HTTP answer, as a ``RoomsError``.
    static func refusal(status: Int, body: JSONValue?) -> RoomsError {
        RoomsError(
            code: body?["error"]?["code"]?.stringValue ?? String(status),
            message: body?["error"]?["message"]?.stringValue ?? "HTTP \(status)")
    }
}
