@_spi(Node) import RoomRuntime

/// Reads one JSON object of a configuration file, key by key, and refuses keys nobody read, so
/// that a misspelt key is an error naming it rather than a silently ignored setting.
struct ConfigurationReader {
    let path: String
    private let members: [String: JSONValue]
    private var read: Set<String> = []

    init(_ value: JSONValue?, path: String) throws(ConfigurationError) {
        self.path = path
        switch value {
        case nil, .null?: members = [:]
        case .object(let members)?: self.members = members
        default: throw ConfigurationError(key: path, "must be an object")
        }
    }

    private func name(_ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    private mutating func value(_ key: String) -> JSONValue? {
        read.insert(key)
        guard let value = members[key], value != .null else { return nil }
        return value
    }

    mutating func string(_ key: String) throws(ConfigurationError) -> String? {
        guard let value = value(key) else { return nil }
        guard case .string(let text) = value else { throw ConfigurationError(key: name(key), "must be a string") }
        return text
    }

    mutating func boolean(_ key: String) throws(ConfigurationError) -> Bool? {
        guard let value = value(key) else { return nil }
        guard case .bool(let flag) = value else { throw ConfigurationError(key: name(key), "must be true or false") }
        return flag
    }

    mutating func integer(_ key: String, in range: ClosedRange<Int>) throws(ConfigurationError) -> Int? {
        guard let value = value(key) else { return nil }
        guard case .number(let number) = value, number.rounded() == number, let integer = Int(exactly: number),
            range.contains(integer)
        else {
            throw ConfigurationError(key: name(key), "must be an integer from \(range.lowerBound) to \(range.upperBound)")
        }
        return integer
    }

    mutating func number(_ key: String, in range: ClosedRange<Double>) throws(ConfigurationError) -> Double? {
        guard let value = value(key) else { return nil }
        guard case .number(let number) = value, range.contains(number) else {
            throw ConfigurationError(
                key: name(key), "must be a number from \(Self.plain(range.lowerBound)) to \(Self.plain(range.upperBound))")
        }
        return number
    }

    mutating func choice<T: RawRepresentable & CaseIterable>(_ key: String, of type: T.Type) throws(ConfigurationError)
        -> T? where T.RawValue == String
    {
        guard let text = try string(key) else { return nil }
        guard let choice = T(rawValue: text) else {
            let names = T.allCases.map { "\"\($0.rawValue)\"" }.joined(separator: ", ")
            throw ConfigurationError(key: name(key), "must be one of \(names)")
        }
        return choice
    }

    mutating func strings(_ key: String) throws(ConfigurationError) -> [String]? {
        guard let value = value(key) else { return nil }
        guard case .array(let items) = value else { throw ConfigurationError(key: name(key), "must be a list of strings") }
        var strings: [String] = []
        for item in items {
            guard case .string(let text) = item else { throw ConfigurationError(key: name(key), "must be a list of strings") }
            strings.append(text)
        }
        return strings
    }

    mutating func object(_ key: String) throws(ConfigurationError) -> ConfigurationReader {
        try ConfigurationReader(value(key), path: name(key))
    }

    /// The members of the object at `key`, unread.
    mutating func members(_ key: String) throws(ConfigurationError) -> [String: JSONValue] {
        guard let value = value(key) else { return [:] }
        guard case .object(let members) = value else { throw ConfigurationError(key: name(key), "must be an object") }
        return members
    }

    /// Fails on the first key that was never read.
    func finish() throws(ConfigurationError) {
        if let unknown = members.keys.sorted().first(where: { !read.contains($0) }) {
            let known = read.sorted().joined(separator: ", ")
            throw ConfigurationError(key: name(unknown), "unknown key (known here: \(known))")
        }
    }

    /// `value` as people write it: `3600`, not `3600.0`.
    private static func plain(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e15 ? String(Int64(value)) : String(value)
    }
}
