import ArgumentParser
import Foundation

/// Checks a `--data-dir` argument of `rooms check` and `rooms backup`.
enum DataDirectoryArgument {
    /// - Throws: a `ValidationError` naming the path when it does not exist, is not a directory,
    ///   or (with `requireNodeDirectory`) holds no `directory.sqlite`.
    static func validate(_ path: String, requireNodeDirectory: Bool = false) throws {
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isFolder) else {
            throw ValidationError("--data-dir '\(path)' does not exist")
        }
        guard isFolder.boolValue else { throw ValidationError("--data-dir '\(path)' is not a directory") }
        if requireNodeDirectory, !FileManager.default.fileExists(atPath: path + "/directory.sqlite") {
            throw ValidationError("--data-dir '\(path)' holds no directory.sqlite: not a data directory")
        }
    }
}
