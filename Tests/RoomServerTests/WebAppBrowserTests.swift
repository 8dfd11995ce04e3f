import Foundation
import TestSupport
import Testing

/// The web app in a real browser: headless Chromium driven by Selenium, two sessions against a
/// real `rooms serve` (clients/web/test/browser_test.py says what it checks).
@Suite("The web app in a browser", .watched)
struct WebAppBrowserTests {
    static var hasBrowser: Bool {
        RoomsBinary.pythonCanImport("selenium") && RoomsBinary.which("chromium") != nil
            && RoomsBinary.which("chromedriver") != nil
    }

    @Test(
        "two browser sessions (one phone-sized) chat in a direct room with inbox counts, read ticks, typing and presence; one is cut off while the server restarts and catches up with no gap; history pages upward; an AI answer streams into both",
        .enabled(if: hasBrowser, "needs chromium, chromium-driver and selenium (.ci/run installs them)"))
    func browser() async throws {
        let script = RoomsBinary.packageRoot.appendingPathComponent("clients/web/test/browser_test.py").path
        // Screenshots of every session are saved here when a step fails.
        let shots = FileManager.default.temporaryDirectory.appendingPathComponent("rooms-browser-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: shots, withIntermediateDirectories: true)
        let (status, output) = try await RoomsBinary.run(
            RoomsBinary.which("python3")!, [script, RoomsBinary.url.path, shots.path], timeout: .seconds(300))
        #expect(status == 0, "\(output)")
        #expect(output.hasSuffix("PASS\n"), "\(output)")
        if status == 0 { try? FileManager.default.removeItem(at: shots) }
    }
}
