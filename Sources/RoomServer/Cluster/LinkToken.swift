import Crypto
import Foundation

/// How a node proves, when it opens a link, that it is a node of the cluster: the `Authorization`
/// header `RoomsLink <nodeID> <unix seconds> <hex HMAC-SHA256>`, the MAC taken with the cluster's
/// link secret (which the first node wrote in PostgreSQL; see `ControlPlane.linkSecret()`) over
/// `rooms-link`, the node ID and the time. The owner trusts the identities a link carries, so
/// nothing else may open one. A token is good for five minutes either side of the owner's clock;
/// run links over a private network or TLS (`advertise` with `https`), since a token seen on the
/// wire can be replayed within that window.
struct LinkToken: Sendable {
    /// The `Authorization` scheme.
    static let scheme = "RoomsLink"
    /// How far a token's time may be from the verifier's clock.
    static let skew: TimeInterval = 300

    private let key: SymmetricKey

    init(secret: [UInt8]) {
        key = SymmetricKey(data: secret)
    }

    /// The header value for `node` at `now`.
    func header(node: String, now: Date = Date()) -> String {
        let time = Int64(now.timeIntervalSince1970)
        let mac = HMAC<SHA256>.authenticationCode(for: Self.signed(node: node, time: time), using: key)
        return "\(Self.scheme) \(node) \(time) \(mac.map { String(format: "%02x", $0) }.joined())"
    }

    /// The node `header` proves to be; nil when it proves nothing (missing, malformed, too old or
    /// too new, or signed with another secret).
    func verify(_ header: String?, now: Date = Date()) -> String? {
        guard let parts = header?.split(separator: " ", omittingEmptySubsequences: true), parts.count == 4,
            parts[0] == Self.scheme, let time = Int64(parts[2]), parts[3].utf8.count == 64,
            abs(Double(time) - now.timeIntervalSince1970) <= Self.skew,
            let mac = Self.bytes(hex: parts[3])
        else { return nil }
        let node = String(parts[1])
        guard HMAC<SHA256>.isValidAuthenticationCode(mac, authenticating: Self.signed(node: node, time: time), using: key)
        else { return nil }
        return node
    }

    private static func signed(node: String, time: Int64) -> Data {
        Data("rooms-link\n\(node)\n\(time)".utf8)
    }

    private static func bytes(hex: Substring) -> [UInt8]? {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(32)
        var index = hex.startIndex
        while index < hex.endIndex {
            let next = hex.index(index, offsetBy: 2)
            guard let byte = UInt8(hex[index..<next], radix: 16) else { return nil }
            bytes.append(byte)
            index = next
        }
        return bytes
    }
}
