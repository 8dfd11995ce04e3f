public import Foundation
public import PostgresNIO
import NIOSSL

/// Where the control plane's PostgreSQL is, read from a `postgres://` URL (the libpq form:
/// `postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE[?sslmode=disable|prefer|require|verify-ca|verify-full]`).
///
/// Written here because postgres-nio takes a configuration, not a URL, and postgres-kit (which
/// parses one) would bring sql-kit and async-kit for these few lines.
public struct PostgresAddress: Sendable, Equatable {
    public var host: String
    public var port: Int
    public var username: String
    public var password: String?
    public var database: String
    /// libpq's `sslmode`: `disable`, `prefer` (the default), `require`, `verify-ca` or `verify-full`.
    public var sslMode: String

    /// Reads `url`.
    ///
    /// - Throws: ``ClusterError`` (`invalidURL`) naming what is wrong, never echoing the password.
    public init(url: String) throws(ClusterError) {
        guard let components = URLComponents(string: url) else {
            throw ClusterError(.invalidURL, "the PostgreSQL URL is not a URL")
        }
        guard let scheme = components.scheme, ["postgres", "postgresql"].contains(scheme.lowercased()) else {
            throw ClusterError(.invalidURL, "the PostgreSQL URL must start with postgres:// or postgresql://")
        }
        guard let host = components.host, !host.isEmpty else {
            throw ClusterError(.invalidURL, "the PostgreSQL URL names no host")
        }
        guard let username = components.user, !username.isEmpty else {
            throw ClusterError(.invalidURL, "the PostgreSQL URL names no user (postgres://USER@HOST/DATABASE)")
        }
        let port = components.port ?? 5432
        guard (1...65_535).contains(port) else {
            throw ClusterError(.invalidURL, "the PostgreSQL URL's port is not 1 to 65535")
        }
        let database = String(components.path.drop(while: { $0 == "/" }))
        guard !database.isEmpty, !database.contains("/") else {
            throw ClusterError(.invalidURL, "the PostgreSQL URL names no database (postgres://USER@HOST/DATABASE)")
        }
        var sslMode = "prefer"
        for item in components.queryItems ?? [] {
            switch item.name {
            case "sslmode":
                guard let value = item.value, ["disable", "prefer", "require", "verify-ca", "verify-full"].contains(value) else {
                    throw ClusterError(
                        .invalidURL, "the PostgreSQL URL's sslmode must be disable, prefer, require, verify-ca or verify-full")
                }
                sslMode = value
            default:
                throw ClusterError(.invalidURL, "the PostgreSQL URL has an option this node does not know: \(item.name)")
            }
        }
        self.host = host
        self.port = port
        self.username = username
        self.password = components.password
        self.database = database
        self.sslMode = sslMode
    }

    /// postgres-nio's configuration for this address.
    public var clientConfiguration: PostgresClient.Configuration {
        // As libpq: prefer and require encrypt without checking the server's certificate (a
        // stock PostgreSQL's is self-signed); verify-ca and verify-full check it against the
        // system's roots, verify-full the host name too.
        var unverified = TLSConfiguration.makeClientConfiguration()
        unverified.certificateVerification = .none
        var verifyCA = TLSConfiguration.makeClientConfiguration()
        verifyCA.certificateVerification = .noHostnameVerification
        let tls: PostgresClient.Configuration.TLS =
            switch sslMode {
            case "disable": .disable
            case "require": .require(unverified)
            case "verify-ca": .require(verifyCA)
            case "verify-full": .require(.makeClientConfiguration())
            default: .prefer(unverified)
            }
        var configuration = PostgresClient.Configuration(
            host: host, port: port, username: username, password: password, database: database, tls: tls)
        configuration.options.connectTimeout = .seconds(5)
        // Renewals, takeovers and lookups: a few at a time.
        configuration.options.maximumConnections = 4
        return configuration
    }
}
