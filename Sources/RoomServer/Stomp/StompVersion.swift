import Foundation
/// A version of STOMP the server speaks, negotiated by `CONNECT`'s `accept-version`.
package enum StompVersion: String, Sendable, Comparable, CaseIterable {
    case v1_0 = "1.0"
    case v1_1 = "1.1"
    case v1_2 = "1.2"

    /// The versions, as `ERROR` lists them when none of a client's is spoken.
    static let supported = allCases.map(\.rawValue).joined(separator: ",")

    /// The WebSocket subprotocols for STOMP, most preferred first (the server answers the first
    /// one a client offers).
    static let subprotocols = ["v12.stomp", "v11.stomp", "v10.stomp"]

    /// The highest version in `accept-version` (a comma-separated list; absent means 1.0, as
    /// STOMP 1.0 clients send none); nil when the server speaks none of them.
    static func negotiate(_ acceptVersion: String?) -> StompVersion? {
        guard let acceptVersion else { return .v1_0 }
        return acceptVersion.split(separator: ",")
            .compactMap { StompVersion(rawValue: $0.trimmingCharacters(in: .whitespaces)) }
            .max()
    }

    /// Whether header names and values are escaped (1.1 and later, except in `CONNECT`,
    /// `STOMP` and `CONNECTED`).
    var escapesHeaders: Bool { self != .v1_0 }

    package static func < (lhs: StompVersion, rhs: StompVersion) -> Bool { lhs.rawValue < rhs.rawValue }
}
