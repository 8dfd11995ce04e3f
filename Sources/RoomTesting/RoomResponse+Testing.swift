public import Foundation
public import RoomRuntime
import NIOCore

extension RoomResponse {
    /// The body as UTF-8 text.
    public var text: String { String(buffer: body) }

    /// The body decoded as a JSON object (empty when it is not one).
    public var json: [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(body.readableBytesView))) as? [String: Any] ?? [:]
    }

    /// The body decoded as `T`.
    public func decode<T: Decodable>(_ type: T.Type) throws -> T {
        try JSONDecoder().decode(T.self, from: Data(body.readableBytesView))
    }
}
