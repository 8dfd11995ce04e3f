import AsyncHTTPClient
import Foundation
import NIOCore

/// The one retry of a request that was lost with its connection before any of its response
/// arrived.
///
/// A server may close a keep-alive connection (as llama.cpp's server was seen to after a failed
/// answer, and as most servers do after a few idle seconds) just as the client takes it from
/// its pool for the next request. The request then fails with the connection closed or reset by
/// the peer, before a byte of response, although the server is up and a new connection would
/// work.
///
/// This is written here because async-http-client (1.37) does not retry such requests:
/// `retryConnectionEstablishment` covers connections that could not be opened, not requests lost
/// on an open one; a request handed to a pooled connection the pool has not yet seen close fails
/// with `remoteConnectionClosed` (`HTTP1ConnectionStateMachine.runNewRequest` carries a TODO for
/// "a fast rescheduling mechanism"), and a reset after the request was written fails it with the
/// `IOError`. The failed connection is out of the pool once the error is reported, so the retry
/// goes out on another connection, a new one unless another is idle.
///
/// The rule, "retry only before the first response byte", is kept by what is retried: only the
/// call that returns once the response head has arrived. Once it has returned nothing is retried,
/// so a half-streamed answer is never requested again. Failures to connect are not retried here
/// either: the client already retried them until its connect deadline.
enum StaleConnectionRetry {
    /// Runs `attempt`, and once more if it failed with ``isLostConnection(_:)``; the second
    /// failure, or any other, is thrown.
    static func run<Response>(_ attempt: () async throws -> Response) async throws -> Response {
        do {
            return try await attempt()
        } catch let error where isLostConnection(error) {
            return try await attempt()
        }
    }

    /// Whether `error`, from a request that received no response yet, says that an open
    /// connection was closed or reset by the peer (rather than that none could be opened, or that
    /// the request was cancelled or timed out).
    static func isLostConnection(_ error: any Error) -> Bool {
        switch error {
        case let error as HTTPClientError:
            error == .remoteConnectionClosed
        case let error as IOError:
            error.errnoCode == ECONNRESET || error.errnoCode == EPIPE
        default:
            false
        }
    }
}
