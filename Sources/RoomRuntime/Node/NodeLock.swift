#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
public import Foundation
import Synchronization

/// The exclusive lock a node holds on its data directory, so that two nodes never write the same
/// room files (SQLite's own locks do not stop a second process from opening rooms the first has
/// open, and two writers of one directory fail each other's commits).
///
/// It is an advisory `flock` on `<data>/node.lock`, which holds the holder's PID: the operating
/// system releases it when the process ends, however it ends, so a crash never leaves a stale
/// lock behind. Written by hand over the system call: no package offers a file lock.
final class NodeLock: Sendable {
    /// The lock file.
    let file: URL
    private let descriptor: Int32
    private let released = Atomic(false)

    /// Takes the lock on `directory`, creating the directory if needed. `shared`: the lock the
    /// nodes of a cluster hold together on their shared data directory (each also holds its own
    /// folder's exclusively), so that a node running alone cannot start on a cluster's files, nor
    /// a cluster's node on a lone node's.
    ///
    /// - Throws: ``NodeLockError`` when another process holds it.
    init(directory: URL, shared: Bool = false) throws {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        file = directory.appendingPathComponent("node.lock")
        descriptor = open(file.path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        // A throw from here on runs deinit, which releases (closes) the file: closing it here as
        // well would close whatever file was given the same number meanwhile.
        guard descriptor >= 0 else {
            released.store(true, ordering: .relaxed)
            throw NodeLockError(directory: directory.path, holder: nil, reason: String(cString: strerror(errno)))
        }
        guard flock(descriptor, (shared ? LOCK_SH : LOCK_EX) | LOCK_NB) == 0 else {
            let reason = errno == EWOULDBLOCK ? nil : String(cString: strerror(errno))
            var buffer = [UInt8](repeating: 0, count: 32)
            let count = pread(descriptor, &buffer, buffer.count, 0)
            release()
            let holder = count > 0 ? Int32(String(decoding: buffer[0..<count], as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)) : nil
            throw NodeLockError(directory: directory.path, holder: shared ? nil : holder, reason: reason)
        }
        // The holder's PID, for the message a second node gets; a shared lock has many holders.
        guard !shared else { return }
        let pid = Array("\(getpid())\n".utf8)
        _ = ftruncate(descriptor, 0)
        _ = pwrite(descriptor, pid, pid.count, 0)
    }

    /// Releases the lock (closing the file releases it). Idempotent.
    func release() {
        guard !released.exchange(true, ordering: .relaxed) else { return }
        close(descriptor)
    }

    deinit {
        release()
    }
}

/// Another process holds the data directory (see ``NodeLock``).
@_spi(Node)
public struct NodeLockError: Error, Sendable, CustomStringConvertible {
    /// The data directory.
    public let directory: String
    /// The PID of the process that holds it, when it could be read.
    public let holder: Int32?
    /// Why the lock could not be taken, when it was not another holder.
    public let reason: String?

    public var description: String {
        if let reason { return "cannot lock the data directory \(directory): \(reason)" }
        let who = holder.map { "another rooms process (PID \($0))" } ?? "another rooms process"
        return "the data directory \(directory) is in use by \(who); stop it, or give this node a directory of its own"
    }
}
