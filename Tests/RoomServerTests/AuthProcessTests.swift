import BuiltInRooms
import Foundation
import JWTKit
import Logging
@_spi(Node) import RoomRuntime
import RoomServer
import RoomTesting
import TestSupport
import Testing

@testable import rooms

@Suite("Authentication from outside the process", .watched)
struct AuthProcessTests {
    static var hasPyJWT: Bool { RoomsBinary.pythonCanImport("jwt") }

    @Test(
        "a Python client signing with PyJWT: refusals, members, removal, a direct room, expiry, refresh, rooms token",
        .enabled(if: hasPyJWT, "needs python3 with PyJWT (.ci/run installs it)"))
    func pythonClient() async throws {
        let script = RoomsBinary.packageRoot.appendingPathComponent("examples/python/auth_check.py").path
        let (status, output) = try await RoomsBinary.run(
            RoomsBinary.which("python3")!, [script, RoomsBinary.url.path], timeout: .seconds(180))
        #expect(status == 0, "\(output)")
        #expect(output.hasSuffix("PASS\n"), "\(output)")
    }

    @Test("rooms token prints an HS256 token for the configured secret, with the claims asked for")
    func tokenCommand() async throws {
        let secret = "a-development-secret-of-at-least-32-bytes!"
        let process = Process()
        process.executableURL = RoomsBinary.url
        process.arguments = ["token", "--sub", "ann", "--ttl", "60", "--rooms", "chat/*", "--rooms", "team/core", "--admin"]
        process.environment = ["ROOMS_JWT_SECRET": secret]
        let output = Pipe()
        process.standardOutput = output
        // A token is far smaller than a pipe's buffer: read once it exited.
        try await process.runToExit()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        #expect(process.terminationStatus == 0)
        let token = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        let keys = JWTKeyCollection()
        await keys.add(hmac: HMACKey(from: secret), digestAlgorithm: .sha256)
        let claims = try await keys.verify(token, as: TokenMint.Claims.self).members
        #expect(claims["sub"] == "ann")
        #expect(claims["rooms"] == .array(["chat/*", "team/core"]))
        #expect(claims["admin"] == .bool(true))
        let exp = claims["exp"].flatMap { if case .number(let n) = $0 { n } else { nil } } ?? 0
        #expect(abs(exp - Date().timeIntervalSince1970 - 60) < 5)
        // Another secret does not verify it.
        let other = JWTKeyCollection()
        await other.add(hmac: HMACKey(from: "another-secret-of-at-least-32-bytes-xx"), digestAlgorithm: .sha256)
        await #expect(throws: (any Error).self) { try await other.verify(token, as: TokenMint.Claims.self) }
    }

    @Test(
        "rooms token refuses what it cannot sign",
        arguments: [
            (["token"], "Missing expected argument '--sub"),
            (["token", "--sub", ""], "--sub"),
            (["token", "--sub", "ann", "--rooms", "nope"], "is not kind/id, kind/* or kind/prefix*"),
            (["token", "--sub", "ann", "--ttl", "0"], "--ttl must be"),
            (["token", "--sub", "ann", "--config", "/nonexistent/rooms.json"], "cannot read the file"),
        ])
    func tokenCommandRefusals(arguments: [String], message: String) async throws {
        let (status, output) = try await RoomsBinary.run(RoomsBinary.url.path, arguments, timeout: .seconds(30))
        #expect(status != 0)
        #expect(output.contains(message), "\(output)")
    }

    @Test("without authentication on a non-loopback address, the server warns at start")
    func warnsWithoutAuthentication() async throws {
        for (host, warns) in [("0.0.0.0", true), ("127.0.0.1", false)] {
            let recorder = LogRecorder()
            var configuration = try ServerConfiguration.defaults(classes: BuiltInRoomClasses.registry)
            configuration.host = host
            configuration.runtime.dataDirectory = FileManager.default.temporaryDirectory.appendingPathComponent(
                "rooms-warn-\(UUID().uuidString)")
            defer { try? FileManager.default.removeItem(at: configuration.runtime.dataDirectory) }
            let server = try await RoomServer(configuration: configuration, logger: recorder.logger)
            let warning = recorder.all.first { $0.level == .warning && $0.message.contains("auth.mode") }
            #expect((warning != nil) == warns, "\(host): \(recorder.all.map(\.message))")
            _ = server
        }
    }
}
