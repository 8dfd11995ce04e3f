/// A field that a room class composing the chat log adds to its messages: a column of its own
/// in `messages`, and a field of the same value in history and in `message` frames.
///
/// ```swift
/// let log = ChatLog(options: options, fields: [ChatField(column: "reply_to", name: "replyTo", type: .integer)])
/// ```
public struct ChatField: Sendable, Equatable {
    /// The SQL type of the column, and the JSON type of the field.
    public enum ValueType: Sendable, Equatable {
        /// `TEXT`, a JSON string.
        case text
        /// `INTEGER`, a JSON integer.
        case integer
    }

    /// The column's name in `messages` (the class's migrations add it).
    public let column: String
    /// The field's name in history and frames.
    public let name: String
    /// The field's type.
    public let type: ValueType

    public init(column: String, name: String, type: ValueType) {
        self.column = column
        self.name = name
        self.type = type
    }
}

/// The value of a ``ChatField`` on one message.
public enum ChatFieldValue: Sendable, Equatable {
    case text(String)
    case integer(Int64)

    /// The text, if this is a text value.
    public var text: String? {
        if case .text(let text) = self { return text }
        return nil
    }

    /// The integer, if this is an integer value.
    public var integer: Int64? {
        if case .integer(let integer) = self { return integer }
        return nil
    }
}
