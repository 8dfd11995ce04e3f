public import Foundation

/// The `push` section of the configuration (docs/CONFIGURATION.md): where offline pushes go.
///
/// ```json
/// "push": {"url": "https://push.example.com/rooms", "secretEnv": "ROOMS_PUSH_SECRET", "delaySeconds": 10}
/// ```
public struct PushConfiguration: Sendable, Equatable {
    /// The webhook: an `http` or `https` URL that receives `POST` requests.
    public var url: URL
    /// The environment variable holding the secret that signs every push (HMAC-SHA256).
    public var secretEnv: String
    /// How long a member has to read a message before it is pushed to them (default 10 s).
    public var delay: Duration = .seconds(10)
    /// How long one attempt may take before it counts as failed (default 10 s).
    public var timeout: Duration = .seconds(10)

    public init(url: URL, secretEnv: String) {
        self.url = url
        self.secretEnv = secretEnv
    }
}
