import AsyncHTTPClient
import Crypto
import Foundation
import NIOCore
import NIOHTTP1
@_spi(Node) import RoomRuntime

/// Delivers offline pushes to the configured webhook: `POST url` with the JSON body, signed with
/// `X-Rooms-Signature: sha256=<hex HMAC-SHA256 of the body>` and named by `X-Rooms-Delivery`.
/// One attempt per call; a non-2xx answer, a timeout or a failed connection throws, and the room
/// that owes the push retries it.
struct PushWebhook: Sendable {
    let url: URL
    let key: SymmetricKey
    let timeout: Duration

    /// The webhook of `configuration`, its secret read from `environment`.
    ///
    /// - Throws: ``ConfigurationError`` (`push.secretEnv`) when the variable is not set.
    init(_ configuration: PushConfiguration, environment: [String: String]) throws {
        guard let secret = environment[configuration.secretEnv], !secret.isEmpty else {
            throw ConfigurationError(key: "push.secretEnv", "the environment variable \(configuration.secretEnv) is not set")
        }
        url = configuration.url
        key = SymmetricKey(data: Data(secret.utf8))
        timeout = configuration.timeout
    }

    /// The `X-Rooms-Signature` of `body`.
    static func signature(of body: Data, key: SymmetricKey) -> String {
        let mac = HMAC<SHA256>.authenticationCode(for: body, using: key)
        return "sha256=" + mac.map { String(format: "%02x", $0) }.joined()
    }

    /// Makes one attempt to deliver `delivery`.
    func deliver(_ delivery: PushService.Delivery) async throws {
        var request = HTTPClientRequest(url: url.absoluteString)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "User-Agent", value: "DurableRooms-Push")
        request.headers.add(name: "X-Rooms-Delivery", value: delivery.id)
        request.headers.add(name: "X-Rooms-Signature", value: Self.signature(of: delivery.body, key: key))
        request.body = .bytes(ByteBuffer(bytes: delivery.body))
        // The shared client: pushes are few, and the deadline below bounds every attempt.
        let response = try await HTTPClient.shared.execute(request, timeout: TimeAmount(timeout))
        // The answer's body is not read: drain at most a little of it and let the rest go.
        _ = try? await response.body.collect(upTo: 4096)
        guard (200..<300).contains(response.status.code) else {
            throw PushError(status: Int(response.status.code))
        }
    }

    /// The service rooms use.
    func service(delay: Duration) -> PushService {
        PushService(delay: delay) { delivery in try await deliver(delivery) }
    }
}

/// The webhook answered a push with a status other than 2xx.
struct PushError: Error, CustomStringConvertible {
    let status: Int
    var description: String { "the push webhook answered \(status)" }
}
