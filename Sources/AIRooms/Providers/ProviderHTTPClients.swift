import AsyncHTTPClient
import NIOCore
import Synchronization

/// The HTTP clients of the OpenAI-compatible providers: one per connect deadline, created on
/// first use and shared by every provider of the process that has that deadline.
///
/// Why not `HTTPClient.shared`: its configuration is fixed, and it is made for browsing: it waits
/// up to 90 s for a connection (retrying a refused one all that time, so a stopped model server is
/// reported after 90 s, or as a timeout) and stops a response after 90 s without a byte, whatever
/// the provider's `timeoutSeconds` says.
///
/// Why shared and never shut down, like `HTTPClient.shared` itself: a provider is made each time an
/// AI room activates, and rooms hibernate and wake all the time. A client per provider would be a
/// connection pool per activation, each needing a shutdown at each eviction, and answers would
/// never find a warm connection. One client per distinct configuration keeps connections to a
/// model server warm across rooms and activations. There are as many as the configuration has
/// distinct `connectTimeoutSeconds` (usually one), they hold no resources beyond their idle
/// connections (closed after the pool's idle timeout), and they end with the process.
enum ProviderHTTPClients {
    /// How many HTTP/1.1 connections answers to one provider host may use at once. Each streaming
    /// answer holds one for its whole length, so this bounds the answers that stream at the same
    /// time from one model server (async-http-client's default, 8, would make the ninth wait for a
    /// connection and fail at the connect deadline). Over HTTP/2 answers share connections.
    static let maxConnectionsPerHost = 256

    private static let clients = Mutex<[Duration: HTTPClient]>([:])

    /// The client for providers whose connect deadline is `connectTimeout`.
    static func client(connectTimeout: Duration) -> HTTPClient {
        clients.withLock { clients in
            if let client = clients[connectTimeout] { return client }
            let client = HTTPClient(
                eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration(connectTimeout: connectTimeout))
            clients[connectTimeout] = client
            return client
        }
    }

    /// The configuration of those clients.
    ///
    /// - `connect`: the longest wait for a connection, retries of a refused or failed connection
    ///   attempt included (async-http-client retries with a backoff until this deadline, then fails
    ///   the request with the last connection error). It is also the longest a request waits for a
    ///   free connection when ``maxConnectionsPerHost`` are busy.
    /// - no read timeout: ``OpenAIProvider`` has its own watchdog (`timeoutSeconds`,
    ///   `totalTimeoutSeconds`), which also covers the wait for the response to start.
    static func configuration(connectTimeout: Duration) -> HTTPClient.Configuration {
        var configuration = HTTPClient.Configuration()
        configuration.timeout = HTTPClient.Configuration.Timeout(connect: TimeAmount(connectTimeout))
        configuration.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = maxConnectionsPerHost
        return configuration
    }
}
