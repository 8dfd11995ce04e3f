import Foundation

/// The paths of this process's open file descriptors that lie under `directory`.
func descriptors(under directory: URL) -> [String] {
    let base = directory.standardizedFileURL.resolvingSymlinksInPath().path
    let fds = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []
    return fds.compactMap { fd in
        guard let target = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/fd/\(fd)") else {
            return nil
        }
        return target.hasPrefix(base + "/") ? target : nil
    }
}
