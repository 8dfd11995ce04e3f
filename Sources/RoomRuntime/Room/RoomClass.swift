import Foundation

/// A room class with its type erased, as the registry and the runtime hold it.
public struct RoomClass: Sendable {
    /// The class's configuration name (``Room/className``).
    public let name: String
    /// The class's migrations.
    public let migrations: RoomMigrations
    /// How often rooms of the class take a snapshot, if they do.
    public let snapshotInterval: Duration?
    /// Whether rooms of the class keep nothing: no file, no directory row (``Room/isEphemeral``).
    public let isEphemeral: Bool
    /// The frame types a reader may send (``Room/readerFrameTypes``).
    public let readerFrameTypes: Set<String>
    private let prepareFactory: @Sendable (JSONValue) throws -> @Sendable () -> any Room

    /// Erases `type`.
    public init<R: Room>(_ type: R.Type) {
        name = R.className
        migrations = R.migrations
        snapshotInterval = R.snapshotInterval
        isEphemeral = R.isEphemeral
        readerFrameTypes = R.readerFrameTypes
        prepareFactory = { json in
            let options = try Self.decodeOptions(R.Options.self, from: json)
            return { R(options: options) }
        }
    }

    /// Validates `options` and returns a function that makes instances configured with them.
    ///
    /// - Throws: ``ConfigurationError`` naming the option that is unknown or malformed.
    public func factory(options: [String: JSONValue], kind: String) throws -> @Sendable () -> any Room {
        do {
            return try prepareFactory(.object(options))
        } catch let error as ConfigurationError {
            throw error.within("kinds.\(kind)")
        } catch let error as DecodingError {
            let described = JSONFrameDecoding.roomError(for: error).message
            let path = JSONFrameDecoding.path(Self.codingPath(of: error))
            throw ConfigurationError(key: path.isEmpty ? "kinds.\(kind)" : "kinds.\(kind).\(path)", described)
        } catch {
            throw ConfigurationError(key: "kinds.\(kind)", "\(error)")
        }
    }

    /// Where in the options a decoding error is.
    private static func codingPath(of error: DecodingError) -> [any CodingKey] {
        switch error {
        case .keyNotFound(let key, let context): context.codingPath + [key]
        case .valueNotFound(_, let context), .typeMismatch(_, let context), .dataCorrupted(let context):
            context.codingPath
        @unknown default: []
        }
    }

    /// Decodes `json` as `T`, refusing keys `T` does not know, so that a typo in a configuration
    /// file is an error rather than a silently ignored option.
    static func decodeOptions<T: Codable>(_ type: T.Type, from json: JSONValue) throws -> T {
        let value = try json.decode(T.self)
        let given = Set(json.objectValue.map { Array($0.keys) } ?? [])
        let known = Set(try JSONValue.encoded(value).objectValue.map { Array($0.keys) } ?? [])
        if let unknown = given.subtracting(known).sorted().first {
            let names = known.sorted()
            throw ConfigurationError(
                key: unknown,
                "unknown option '\(unknown)'" + (names.isEmpty ? " (this class takes none)" : "; known: \(names.joined(separator: ", "))"))
        }
        return value
    }
}

extension JSONValue {
    /// `value` encoded as JSON and read back as a ``JSONValue``.
    static func encoded(_ value: some Encodable) throws -> JSONValue {
        try JSONDecoder().decode(JSONValue.self, from: JSONEncoder().encode(value))
    }
}
