/// How fast senders send: a total number of messages per second, or as fast as the server
/// acknowledges (each sender keeping a small window of messages in flight).
public enum Rate: Sendable, Equatable, CustomStringConvertible, Encodable {
    case max
    case perSecond(Double)

    /// Parses `max` or a positive number.
    public init?(argument: String) {
        if argument == "max" {
            self = .max
        } else if let value = Double(argument), value > 0 {
            self = .perSecond(value)
        } else {
            return nil
        }
    }

    public var description: String {
        switch self {
        case .max: "max"
        case .perSecond(let rate): rate == rate.rounded() ? "\(Int(rate))" : "\(rate)"
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .max: try container.encode("max")
        case .perSecond(let rate): try container.encode(rate)
        }
    }
}
