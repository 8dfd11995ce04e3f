/// Which web origins may use the server from a browser (`server.allowedOrigins`).
///
/// Browsers send `Origin` on WebSocket upgrades and cross-origin requests; a page on another
/// site must not open a socket with the user's credentials (cross-site WebSocket hijacking), nor
/// read the server's answers. Clients that are not browsers send no `Origin` and are not
/// concerned.
struct OriginPolicy: Sendable {
    /// The origins allowed (`"*"` allows any); nil for the default: any origin without
    /// authentication, only the server's own with it.
    let allowed: Set<String>?
    let requiresAuthentication: Bool

    /// Whether a request with `origin` (its `Origin` header) to the server named `host` (its
    /// `Host` header) may proceed.
    func allows(origin: String?, host: String?) -> Bool {
        guard let origin, !origin.isEmpty else { return true }
        let normalized = origin.lowercased()
        // Browsers send http, https or "null" origins. Some WebSocket client libraries send the
        // socket's own URL (`ws://host`): not a page, so nothing to protect against.
        if normalized.hasPrefix("ws://") || normalized.hasPrefix("wss://") { return true }
        if let allowed {
            return allowed.contains("*") || allowed.contains(normalized)
        }
        guard requiresAuthentication else { return true }
        // Same origin: the page came from this server, under the name the browser used for it.
        guard let host = host?.lowercased(), !host.isEmpty else { return false }
        return normalized == "http://\(host)" || normalized == "https://\(host)"
    }
}
