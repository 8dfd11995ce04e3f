import Crypto
public import Foundation

/// Where a node keeps its files.
///
/// ```
/// <root>/directory.sqlite                                  the node directory
/// <root>/rooms/<kind>/<aa>/<bb>/<sha-256 of kind/id>.sqlite  one file per room
/// ```
///
/// In a cluster the room files are shared and each node's own files (its lock and directory) are
/// under `<root>/nodes/<node ID>/` instead of the top.
///
/// A room's file name is the hex SHA-256 digest of its address (`kind/id`), never the raw id: ids
/// are arbitrary UTF-8 and may hold `/`, `..` or names a file system refuses. `aa` and `bb` are
/// the digest's first two bytes, so no folder holds more than a few hundred files per 10 million
/// rooms.
@_spi(Node)
public struct StorageLayout: Sendable {
    /// The data directory.
    public let root: URL

    /// Where this node's own files are: the data directory, or `nodes/<node ID>` in a cluster.
    public let nodeRoot: URL

    public init(root: URL, node: String? = nil) {
        let root = root.standardizedFileURL
        self.root = root
        self.nodeRoot = node.map { root.appendingPathComponent("nodes").appendingPathComponent($0) } ?? root
    }

    /// The node directory's database file.
    public var directoryFile: URL {
        nodeRoot.appendingPathComponent("directory.sqlite")
    }

    /// The hex SHA-256 digest of `address.path`.
    public static func digest(of address: RoomAddress) -> String {
        let hash = SHA256.hash(data: Data(address.path.utf8))
        return hash.map { byte in
            let hex = String(byte, radix: 16)
            return byte < 16 ? "0" + hex : hex
        }.joined()
    }

    /// The room's file, relative to ``root``.
    public static func relativePath(of address: RoomAddress) -> String {
        let digest = digest(of: address)
        let aa = digest.prefix(2)
        let bb = digest.dropFirst(2).prefix(2)
        return "rooms/\(address.kind)/\(aa)/\(bb)/\(digest).sqlite"
    }

    /// What a room's state may occupy beside its file (whose own suffix is ""): SQLite's WAL, its
    /// shared-memory index and its rollback journal, and the image of a creation a crash
    /// interrupted (``RoomFileImage``). Deleting a room removes them all.
    static let fileSuffixes = ["", "-wal", "-shm", "-journal", RoomFileImage.temporarySuffix]

    /// The room's file.
    public func file(of address: RoomAddress) -> URL {
        root.appendingPathComponent(Self.relativePath(of: address))
    }
}
