// The web app's files as a resource bundle, for `rooms serve` to serve at `/`.
//
// This target lives in `clients/` (not `Sources/`) because a package's resources must sit inside
// its target's folder, and the web app ships the JavaScript client (`clients/js/rooms.js`) as it is:
// one copy of the client, served at `/rooms.js` beside the app's own files in `clients/web/`.

import Foundation

/// Where the web app's files are: `index.html`, `app.js`, `app.css` and the JavaScript client
/// `rooms.js`, all in one folder.
public enum WebApp {
    /// The path of the folder holding the files, or nil when the resource bundle is missing (a binary copied
    /// away from the `DurableRooms_WebApp.resources` folder the build puts beside it).
    public static var directory: String? {
        #if os(Linux)
        // Looked up by hand rather than with `Bundle.module`, which stops the process when the
        // bundle is missing: a server without its web app still serves everything else.
        let folder = Bundle.main.bundleURL.appendingPathComponent("DurableRooms_WebApp.resources")
        #else
        guard let folder = Bundle.module.resourceURL else { return nil }
        #endif
        guard FileManager.default.fileExists(atPath: folder.appendingPathComponent("index.html").path) else { return nil }
        return folder.path
    }
}
