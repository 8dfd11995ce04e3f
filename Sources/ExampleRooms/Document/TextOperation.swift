/// One edit of a plain-text document: a list of components that walk the whole document at the
/// version the edit was made on, in the ot.js / ShareDB text shape.
///
/// `[{"retain": 5}, {"insert": "big "}, {"delete": 3}]` keeps the first 5 positions, inserts
/// "big " there, deletes the next 3 positions and keeps the rest (a trailing retain may be left
/// out). Positions count UTF-16 code units, what browsers' text fields use: "😀" is 2 long.
///
/// The components are kept normalized (adjacent components of one sort merged, an insert before a
/// delete at the same place, no empty component, no trailing retain), so two operations that do
/// the same thing are equal.
public struct TextOperation: Sendable, Equatable {
    /// One step of an operation.
    public enum Component: Sendable, Equatable {
        /// Keep this many positions.
        case retain(Int)
        /// Insert this text here.
        case insert(String)
        /// Delete this many positions.
        case delete(Int)
    }

    /// The steps, normalized.
    public private(set) var components: [Component] = []
    /// How long a document must be for this operation to apply to it (retained plus deleted).
    public private(set) var baseLength = 0
    /// How long the document is after this operation (retained plus inserted).
    public private(set) var targetLength = 0

    /// An operation that changes nothing, on a document of any length it is given with ``retain(_:)``.
    public init() {}

    /// Builds an operation from components in any form (merging, dropping empty ones).
    public init(_ components: [Component]) {
        for component in components {
            switch component {
            case .retain(let count): retain(count)
            case .insert(let text): insert(text)
            case .delete(let count): delete(count)
            }
        }
    }

    /// Whether the operation changes nothing.
    public var isNoop: Bool {
        components.allSatisfy { if case .retain = $0 { true } else { false } }
    }

    /// Appends a retain of `count` positions.
    public mutating func retain(_ count: Int) {
        guard count > 0 else { return }
        baseLength += count
        targetLength += count
        if case .retain(let last)? = components.last {
            components[components.count - 1] = .retain(last + count)
        } else {
            components.append(.retain(count))
        }
    }

    /// Appends an insert of `text`.
    public mutating func insert(_ text: String) {
        guard !text.isEmpty else { return }
        targetLength += text.utf16.count
        switch components.last {
        case .insert(let last)?:
            components[components.count - 1] = .insert(last + text)
        case .delete?:
            // An insert and a delete at one place: the insert goes first, so that equal edits
            // have one form.
            if case .insert(let before)? = components.dropLast().last {
                components[components.count - 2] = .insert(before + text)
            } else {
                components.insert(.insert(text), at: components.count - 1)
            }
        default:
            components.append(.insert(text))
        }
    }

    /// Appends a delete of `count` positions.
    public mutating func delete(_ count: Int) {
        guard count > 0 else { return }
        baseLength += count
        if case .delete(let last)? = components.last {
            components[components.count - 1] = .delete(last + count)
        } else {
            components.append(.delete(count))
        }
    }

    /// The same operation without a trailing retain (what goes on the wire and into the log).
    public var trimmed: [Component] {
        if case .retain? = components.last { return Array(components.dropLast()) }
        return components
    }
}
