import BuiltInRooms
import ArgumentParser
import Foundation
import JWTKit
@_spi(Node) import RoomRuntime
import RoomServer

/// `rooms token`: prints an HS256 token signed with the configured secret, for development and
/// tests.
struct Token: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print a signed token (HS256) for a user, for development and tests.",
        discussion: """
            The secret is read from the environment variable that the configuration's \
            auth.secretEnv names (ROOMS_JWT_SECRET without --config, or when the file names \
            none). The token goes to standard output, and nowhere else.
            """)

    @Option(help: "The user: the token's sub.")
    var sub: String

    @Option(help: "How long the token is valid, in seconds.")
    var ttl: Int = 3_600

    @Option(help: "A room pattern the token opens (kind/id, kind/*, kind/prefix*); repeat for several. Default: every room.")
    var rooms: [String] = []

    @Flag(help: "Grant the operations routes (GET /rooms, DELETE, /metrics).")
    var admin = false

    @Option(help: "The configuration file whose auth section names the secret's variable, issuer and audience.")
    var config: String?

    func validate() throws {
        do {
            _ = try UserName.validate(sub)
        } catch {
            throw ValidationError("--sub: \(error.message)")
        }
        guard ttl > 0, ttl <= 366 * 86_400 else { throw ValidationError("--ttl must be from 1 to \(366 * 86_400) seconds") }
        for pattern in rooms where RoomPattern(pattern) == nil {
            throw ValidationError("--rooms '\(pattern)' is not kind/id, kind/* or kind/prefix*")
        }
    }

    func run() async throws {
        var auth = AuthConfiguration()
        if let config {
            do {
                auth = try ServerConfiguration.load(path: config, classes: BuiltInRoomClasses.registry).auth
            } catch {
                FileHandle.standardError.write(Data("rooms: configuration error: \(error)\n".utf8))
                throw ExitCode(2)
            }
        }
        let variable = auth.secretEnv ?? "ROOMS_JWT_SECRET"
        guard let secret = ProcessInfo.processInfo.environment[variable], !secret.isEmpty else {
            FileHandle.standardError.write(Data("rooms: the environment variable \(variable) holds no secret\n".utf8))
            throw ExitCode(2)
        }
        let token = try await DevelopmentToken.sign(
            secret: secret, sub: sub, ttl: ttl, rooms: rooms.isEmpty ? nil : rooms, admin: admin, issuer: auth.issuer,
            audience: auth.audience)
        print(token)
    }
}

/// The token `rooms token` prints, signed with jwt-kit.
enum DevelopmentToken {
    struct Claims: JWTPayload {
        var sub: SubjectClaim
        var exp: ExpirationClaim
        var iat: IssuedAtClaim
        var iss: IssuerClaim?
        var aud: AudienceClaim?
        var rooms: [String]?
        var admin: Bool?

        func verify(using algorithm: some JWTAlgorithm) async throws {}
    }

    static func sign(
        secret: String, sub: String, ttl: Int, rooms: [String]?, admin: Bool, issuer: String?, audience: String?
    ) async throws -> String {
        let keys = JWTKeyCollection()
        await keys.add(hmac: HMACKey(from: secret), digestAlgorithm: .sha256)
        let now = Date()
        let claims = Claims(
            sub: SubjectClaim(value: sub), exp: ExpirationClaim(value: now.addingTimeInterval(TimeInterval(ttl))),
            iat: IssuedAtClaim(value: now), iss: issuer.map { IssuerClaim(value: $0) },
            aud: audience.map { AudienceClaim(value: [$0]) }, rooms: rooms, admin: admin ? true : nil)
        return try await keys.sign(claims)
    }
}
