@_spi(Node) import RoomRuntime

/// The documented errors a parser may answer bad input with (docs/PROTOCOL.md, "Error codes").
enum ExpectedErrors {
    /// Fails unless `error` is a ``RoomError`` with one of `codes`.
    static func check(_ error: any Error, in codes: Set<String>, _ context: String) throws(FuzzFailure) {
        guard let error = error as? RoomError else {
            throw FuzzFailure("\(context): threw \(type(of: error)) (\(error)), not a RoomError")
        }
        try FuzzFailure.check(
            codes.contains(error.code.rawValue),
            "\(context): error \(error.code) is not one of \(codes.sorted()): \(error.message)")
    }

    /// What decoding a client's JSON frame may fail with.
    static let frameDecoding: Set = ["invalid_json", "missing_field", "invalid_field"]
}
