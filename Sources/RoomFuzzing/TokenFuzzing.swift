import Dispatch
import Foundation
@_spi(Node) import RoomRuntime
import RoomServer

/// Token parsing: what a client presents as a JSON Web Token, and what a token says once its
/// signature holds.
///
/// The input goes three ways: as the text of a WebSocket frame (`AuthFrame.parse`, which must
/// only ever return `auth` frames); as a token to `TokenVerifier.verify` (HS256 with a fixed
/// secret: anything but a token signed with it is refused `unauthorized`); and, when it is a
/// JSON object, as the claims of a verified token to `TokenVerifier.check` (refused
/// `unauthorized`, or accepted with a valid user name and an expiry after the clock).
enum TokenFuzzing {
    /// The secret the verifier holds; the seed corpus has tokens signed with it.
    static let secret = "fuzzing-secret-fuzzing-secret-fuzzing-secret-0123"
    /// The clock: 2026-01-01T00:00:00Z, in milliseconds.
    static let now: Int64 = 1_767_225_600_000

    /// The verifier, made once (its initializer is async: it loads keys).
    static let verifier: TokenVerifier = {
        var configuration = AuthConfiguration()
        configuration.mode = .jwt
        configuration.secretEnv = "FUZZ_SECRET"
        configuration.issuer = "fuzz"
        configuration.audience = "rooms"
        let settings = configuration
        return blocking {
            try! await TokenVerifier(configuration: settings, environment: ["FUZZ_SECRET": secret])
        }
    }()

    static func run(_ bytes: [UInt8]) throws(FuzzFailure) {
        let text = String(decoding: bytes, as: UTF8.self)
        if let frame = AuthFrame.parse(text) {
            try FuzzFailure.check(frame.type == "auth", "AuthFrame.parse returned a frame of type \(frame.type)")
        }
        let verifier = self.verifier
        let verified: Result<VerifiedToken, RoomError> = blocking {
            do throws(RoomError) {
                return .success(try await verifier.verify(text, now: now))
            } catch {
                return .failure(error)
            }
        }
        try check(verified, "verify")
        if case .object(let claims)? = try? JSONDecoder().decode(JSONValue.self, from: Data(bytes)) {
            let checked: Result<VerifiedToken, RoomError> = Result { () throws(RoomError) in
                try verifier.check(claims, now: now)
            }
            try check(checked, "check")
        }
    }

    private static func check(_ result: Result<VerifiedToken, RoomError>, _ context: String) throws(FuzzFailure) {
        switch result {
        case .success(let token):
            try FuzzFailure.check(
                (try? UserName.validate(token.identity.user)) != nil, "\(context) accepted user \(token.identity.user)")
            try FuzzFailure.check(
                token.identity.expiresAt.map { now - verifier.leewayMilliseconds <= $0 } ?? false,
                "\(context) accepted a token expired at \(token.identity.expiresAt.map(String.init) ?? "nil")")
        case .failure(let error):
            try ExpectedErrors.check(error, in: ["unauthorized"], context)
        }
    }

    /// Runs `work` to its end from synchronous code (libFuzzer calls the target synchronously).
    static func blocking<T: Sendable>(_ work: @escaping @Sendable () async -> T) -> T {
        let done = DispatchSemaphore(value: 0)
        let box = Box<T>()
        Task {
            box.value = await work()
            done.signal()
        }
        done.wait()
        return box.value!
    }

    private final class Box<T>: @unchecked Sendable {
        var value: T?
    }
}
