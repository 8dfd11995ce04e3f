import Foundation

/// A room's WebSocket URL, checked, and the URLs derived from it: the socket URL of each
/// connection (with `token`, `after` and `epoch`) and the room's HTTP URLs.
struct RoomURL: Sendable {
    /// `ws` or `wss`.
    let scheme: String
    /// `host[:port]`.
    let authority: String
    /// The percent-encoded path, `/rooms/{kind}/{id}/ws` or `/inbox/ws`.
    let path: String
    /// The query's items as given (percent-encoded), without `token`, `after` and `epoch`.
    let query: [(name: String, value: String)]
    /// An `/inbox/ws` URL.
    let isInbox: Bool

    init(_ string: String) throws(RoomsError) {
        guard let components = URLComponents(string: string), let host = components.host, !host.isEmpty else {
            throw RoomsError(code: "invalid_url", message: "'\(string)' is not a URL")
        }
        guard let scheme = components.scheme?.lowercased(), scheme == "ws" || scheme == "wss" else {
            throw RoomsError(code: "invalid_url", message: "the URL is ws:// or wss://, not '\(string)'")
        }
        let path = components.percentEncodedPath
        let segments = path.split(separator: "/", omittingEmptySubsequences: false)
        let isRoom = segments.count == 5 && segments[0].isEmpty && segments[1] == "rooms" && !segments[2].isEmpty
            && !segments[3].isEmpty && segments[4] == "ws"
        guard isRoom || path == "/inbox/ws" else {
            throw RoomsError(code: "invalid_url", message: "the URL's path is /rooms/{kind}/{id}/ws or /inbox/ws, not '\(path)'")
        }
        self.scheme = scheme
        let hostPart = host.contains(":") ? "[\(host)]" : host
        self.authority = components.port.map { "\(hostPart):\($0)" } ?? hostPart
        self.path = path
        self.isInbox = !isRoom
        self.query = (components.percentEncodedQuery ?? "").split(separator: "&").compactMap { item in
            let parts = item.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let name = String(parts[0])
            guard !["token", "after", "epoch"].contains(name) else { return nil }
            return (name, parts.count > 1 ? String(parts[1]) : "")
        }
    }

    /// The room's `user` query item (auth mode none), percent-encoded.
    var user: String? { query.first { $0.name == "user" }?.value }

    /// The URL of one connection.
    func socketURL(token: String?, after: Int?, epoch: String?) -> String {
        var items = query
        if let token { items.append(("token", Self.encode(token))) }
        if !isInbox, let after { items.append(("after", String(after))) }
        if !isInbox, let epoch { items.append(("epoch", Self.encode(epoch))) }
        return "\(scheme)://\(authority)\(path)" + Self.queryString(items)
    }

    /// The room's HTTP URL (`/rooms/{kind}/{id}`) with `suffix`, or `base` instead of the room's
    /// path, and `parameters`; the `user` is kept, the token goes in a header instead.
    func httpURL(_ suffix: String = "", base: String? = nil, parameters: [(String, String)] = []) -> String {
        let http = scheme == "wss" ? "https" : "http"
        let root = base ?? String(path.dropLast("/ws".count))
        var items = parameters.map { (name: $0.0, value: Self.encode($0.1)) }
        if let user { items.append(("user", user)) }
        return "\(http)://\(authority)\(root)\(suffix)" + Self.queryString(items)
    }

    private static func queryString(_ items: [(name: String, value: String)]) -> String {
        items.isEmpty ? "" : "?" + items.map { "\($0.name)=\($0.value)" }.joined(separator: "&")
    }

    /// Percent-encodes a query value (everything but RFC 3986's unreserved characters).
    static func encode(_ value: String) -> String {
        let allowed = CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
        return value.addingPercentEncoding(withAllowedCharacters: allowed) ?? value
    }
}
